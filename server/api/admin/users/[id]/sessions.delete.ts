import { z } from 'zod'
import { revokeSessions } from '../../../../services/users'
import { requirePrincipal } from '../../../../utils/principal'
import { readParamsInput } from '../../../../utils/validation'

export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.uuid() }))
  await revokeSessions(event, admin.userId, id)
  setResponseStatus(event, 204)
  return null
})
