import { userCreateSchema } from '#shared/types/user'
import { audit } from '#server/services/audit'
import { createUser, findUserWithOrgs, toAdminUser } from '#server/services/users'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const input = await readInput(event, userCreateSchema)
  const user = await createUser(input)
  await audit(event, { action: 'user_created', actorId: admin.userId, target: { type: 'user', id: user.id }, details: { email: user.email, roles: user.roles } })
  setResponseStatus(event, 201)
  return toAdminUser((await findUserWithOrgs(user.id))!)
})
