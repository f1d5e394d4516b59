import { z } from 'zod'
import { clearBounce } from '#server/services/mail/bounces'
import { requirePrincipal, actorOf } from '#server/utils/principal'
import { readParamsInput } from '#server/utils/validation'

/** Clears a bounce: the address gets mail again. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  const { userId } = readParamsInput(event, z.object({ userId: z.uuid('not a user id') }))
  await clearBounce(actorOf(event, principal), userId)
  return sendNoContent(event, 204)
})
