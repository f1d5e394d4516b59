import { eq } from 'drizzle-orm'
import { comments, tickets } from '#server/db/schema'
import { useLogger } from '#server/utils/logger'
import type { Principal } from '#server/utils/principal'
import type { TicketFacts } from '#server/services/visibility'
import { asSystem, canSeeInternalNotes, canSeeTicket } from '#server/services/visibility'
import { useLiveBus } from './bus'
import type { LiveEnvelope } from './types'

/** Changes of a ticket a requester may hear about; priority and tags are the staff's own work. */
const requesterFields = new Set(['created', 'status', 'title', 'assignee'])

type TicketRef = TicketFacts & { id: string, number: number }
const factsOf = (row: TicketRef): TicketRef =>
  ({ id: row.id, number: row.number, requesterId: row.requesterId, assigneeId: row.assigneeId, orgId: row.orgId })

async function loadTicket(ticketId: string): Promise<TicketRef | undefined> {
  const [row] = await asSystem(tx => tx.select({ id: tickets.id, number: tickets.number, requesterId: tickets.requesterId, assigneeId: tickets.assigneeId, orgId: tickets.orgId })
    .from(tickets).where(eq(tickets.id, ticketId)))
  return row
}

/**
 * Publishes an event after its change was committed. A failure to publish never fails the
 * change itself (it is saved; pages catch up on their next load), it is logged.
 */
async function announce(event: Omit<LiveEnvelope, 'id' | 'ticket'> & { ticket: TicketRef | string }): Promise<void> {
  try {
    const ticket = typeof event.ticket === 'string' ? await loadTicket(event.ticket) : factsOf(event.ticket)
    if (!ticket) return
    await useLiveBus().publish({ ...event, ticket })
  }
  catch (error) {
    useLogger().warn({ err: error, type: event.type }, 'could not publish a live event')
  }
}

/** A ticket was opened (`after` is its id) or changed (`before` is its row before the change). */
export function announceTicketChange(after: TicketRef | string, before: TicketRef | undefined, actorId: string | null, fields: string[]) {
  if (!fields.length) return Promise.resolve()
  const moved = before && typeof after !== 'string' && (before.assigneeId !== after.assigneeId || before.orgId !== after.orgId || before.requesterId !== after.requesterId)
  return announce({ type: 'ticket', ticket: after, before: moved ? factsOf(before) : undefined, actorId, staffOnly: false, fields, data: {} })
}

export function announceComment(ticket: TicketRef | string, comment: { id: string, internal: boolean }, actorId: string) {
  return announce({ type: 'comment', ticket, actorId, staffOnly: comment.internal, data: { comment } })
}

/** A file became ready; on an internal note it is as invisible to requesters as the note. */
export async function announceAttachment(ticketId: string, attachment: { id: string, commentId: string | null }, actorId: string) {
  const { commentId } = attachment
  const internal = commentId
    ? await asSystem(tx => tx.select({ internal: comments.internal }).from(comments).where(eq(comments.id, commentId))).then(r => r[0]?.internal ?? true, () => true)
    : false
  return announce({ type: 'attachment', ticket: ticketId, actorId, staffOnly: internal, data: { attachment } })
}

export function announcePresence(ticket: TicketRef, viewers: unknown[], actorId: string) {
  return announce({ type: 'presence', ticket, actorId, staffOnly: true, data: { viewers } })
}

// Each event is serialised at most once per audience, however many subscribers it reaches.
const frames = new WeakMap<LiveEnvelope, Map<string, string>>()

function frame(event: LiveEnvelope, audience: 'staff' | 'public' | 'gone'): string {
  let cached = frames.get(event)
  if (!cached) frames.set(event, (cached = new Map()))
  let text = cached.get(audience)
  if (text === undefined) {
    const fields = audience === 'public' ? event.fields?.filter(f => requesterFields.has(f)) : event.fields
    const payload = audience === 'gone'
      ? { ticketId: event.ticket.id, number: event.ticket.number, fields: ['access'] }
      : { ticketId: event.ticket.id, number: event.ticket.number, actorId: event.actorId, ...(fields ? { fields } : {}), ...event.data }
    text = `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(payload)}\n\n`
    cached.set(audience, text)
  }
  return text
}

/**
 * The SSE frame this subscriber receives for this event, or null: the one visibility rule
 * decides (on the ticket as it is after the change; someone who could see it before is told
 * only that it changed), and requesters never hear of internal notes or staff-only fields.
 */
export function frameFor(principal: Principal, event: LiveEnvelope): string | null {
  const staff = canSeeInternalNotes(principal)
  if (event.staffOnly && !staff) return null
  if (!canSeeTicket(principal, event.ticket)) {
    return event.type === 'ticket' && event.before && canSeeTicket(principal, event.before) ? frame(event, 'gone') : null
  }
  if (!staff && event.type === 'ticket' && !event.fields?.some(f => requesterFields.has(f))) return null
  return frame(event, staff ? 'staff' : 'public')
}
