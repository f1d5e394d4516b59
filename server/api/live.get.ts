import { followLive, liveQuerySchema } from '#server/services/live'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

/** Server-Sent Events: one ticket's changes (`?ticket=`) or the caller's queue; see docs/live.md. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const query = readQueryInput(event, liveQuerySchema)
  return followLive(event, principal, query.ticket, getRequestHeader(event, 'last-event-id') ?? query.lastEventId)
})
