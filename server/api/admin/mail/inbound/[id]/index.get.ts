import { z } from 'zod'
import { inboundOutcome } from '#server/services/mail/inbound/store'
import { requirePrincipal } from '#server/utils/principal'
import { readParamsInput } from '#server/utils/validation'

/** What became of one received message. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.string() }))
  return inboundOutcome(principal, id)
})
