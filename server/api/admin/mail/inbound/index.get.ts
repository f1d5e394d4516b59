import { inboundListQuerySchema, listInbound } from '#server/services/mail/inbound/store'
import { useConfig } from '#server/utils/config'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

/** The inbound log: every received message and what became of it, newest first. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  const query = readQueryInput(event, inboundListQuerySchema(useConfig().MAX_PAGE_SIZE))
  return listInbound(principal, query)
})
