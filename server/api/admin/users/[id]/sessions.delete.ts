import { z } from 'zod'
import { revokeUserSessions } from '#server/services/auth/sessions'
import { actorOf, requirePrincipal } from '#server/utils/principal'
import { readParamsInput } from '#server/utils/validation'

/** Signs a user out everywhere: every session issued until now is refused, in both modes. */
export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.uuid() }))
  await revokeUserSessions(actorOf(event, admin), id)
  setResponseStatus(event, 204)
  return null
})
