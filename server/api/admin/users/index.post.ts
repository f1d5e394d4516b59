import { userCreateSchema } from '../../../../shared/types/user'
import { createUser, findUserWithOrgs, toAdminUser } from '../../../services/users'
import { requirePrincipal } from '../../../utils/principal'
import { readInput } from '../../../utils/validation'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'admin' })
  const input = await readInput(event, userCreateSchema)
  const user = await createUser(input)
  setResponseStatus(event, 201)
  return toAdminUser((await findUserWithOrgs(user.id))!)
})
