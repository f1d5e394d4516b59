import { z } from 'zod'
import { userUpdateSchema } from '../../../../shared/types/user'
import { updateUser } from '../../../services/users'
import { requirePrincipal } from '../../../utils/principal'
import { readInput, readParamsInput } from '../../../utils/validation'

export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.uuid() }))
  const patch = await readInput(event, userUpdateSchema)
  return updateUser(event, admin.userId, id, patch)
})
