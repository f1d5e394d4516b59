import type { H3Event } from 'h3'
import { z } from 'zod'
import type { Principal } from '#server/utils/principal'
import { getTicket } from '#server/services/tickets'
import { canSeeInternalNotes } from '#server/services/visibility'
import { presenceOf } from './presence'
import { openLiveStream } from './stream'

export const liveQuerySchema = z.object({
  ticket: z.string().trim().min(1).max(64).optional(),
  // For a page that reloads: EventSource sends Last-Event-ID only on its own reconnects.
  lastEventId: z.string().max(40).optional(),
})

/**
 * The caller's live events: one ticket's (404 when they cannot see it; staff first hear who
 * is on it now) or their whole queue's.
 */
export async function followLive(event: H3Event, principal: Principal, ticket: string | undefined, lastEventId: string | undefined): Promise<void> {
  if (!ticket) return openLiveStream(event, principal, null, lastEventId)
  const { id, number } = await getTicket(principal, ticket)
  const staff = canSeeInternalNotes(principal)
  const viewers = staff ? await presenceOf(id) : []
  const first = staff ? [`event: presence\ndata: ${JSON.stringify({ ticketId: id, number, viewers })}\n\n`] : []
  return openLiveStream(event, principal, id, lastEventId, first)
}
