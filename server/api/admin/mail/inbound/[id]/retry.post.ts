import { z } from 'zod'
import { retryInbound } from '#server/services/mail/inbound/jobs'
import { requirePrincipal } from '#server/utils/principal'
import { readParamsInput } from '#server/utils/validation'

/** Processes a failed message again; 409 for any other state. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.string() }))
  return retryInbound(principal, id)
})
