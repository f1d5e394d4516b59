import { z } from 'zod'
import { inboundRaw } from '#server/services/mail/inbound/store'
import { requirePrincipal } from '#server/utils/principal'
import { readParamsInput } from '#server/utils/validation'

/** The message exactly as received, for admins (opens in a mail client as .eml). */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.string() }))
  const raw = await inboundRaw(principal, id)
  setResponseHeaders(event, { 'Content-Type': 'message/rfc822', 'Content-Disposition': `attachment; filename="message-${id}.eml"`, 'X-Content-Type-Options': 'nosniff' })
  return raw
})
