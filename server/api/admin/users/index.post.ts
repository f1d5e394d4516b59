import { userCreateSchema } from '#shared/types/user'
import { createUser, findUserWithOrgs, toAdminUser } from '#server/services/users'
import { actorOf, requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const input = await readInput(event, userCreateSchema)
  const user = await createUser(input, actorOf(event, admin))
  setResponseStatus(event, 201)
  return toAdminUser((await findUserWithOrgs(user.id))!)
})
