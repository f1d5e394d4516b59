import { z } from 'zod'
import { userUpdateSchema } from '#shared/types/user'
import { afterUserChange } from '#server/services/auth/sessions'
import { updateUser } from '#server/services/users'
import { actorOf, requirePrincipal } from '#server/utils/principal'
import { readInput, readParamsInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.uuid() }))
  const patch = await readInput(event, userUpdateSchema)
  const user = await updateUser(actorOf(event, admin), id, patch)
  await afterUserChange(id, patch.active === false)
  return user
})
