import { and, eq, inArray, isNotNull } from 'drizzle-orm'
import { comments, inboundMessages } from '#server/db/schema'
import { visibleTicketId } from '#server/services/tickets'
import { asPrincipal, asSystem, canSeeInternalNotes } from '#server/services/visibility'
import type { Principal } from '#server/utils/principal'

/**
 * The whole text (quoted history and signature included) of the ticket's replies that came by
 * mail, for "show quoted text". Which replies the caller may see is decided first, as the caller
 * (404 for a ticket they cannot see, no internal notes for requesters); the texts themselves live
 * with the received messages, which only the system reads.
 */
export async function mailQuotes(principal: Principal, ticket: string): Promise<{ data: { commentId: string, fullText: string }[] }> {
  const visible = await asPrincipal(principal, async (tx) => {
    const ticketId = await visibleTicketId(tx, principal, ticket)
    const rows = await tx.select({ id: comments.id }).from(comments)
      .where(and(eq(comments.ticketId, ticketId), canSeeInternalNotes(principal) ? undefined : eq(comments.internal, false)))
    return rows.map(r => r.id)
  })
  if (!visible.length) return { data: [] }
  const rows = await asSystem(tx => tx.select({ commentId: inboundMessages.commentId, fullText: inboundMessages.fullText, body: comments.body })
    .from(inboundMessages).innerJoin(comments, eq(comments.id, inboundMessages.commentId))
    .where(and(inArray(inboundMessages.commentId, visible), isNotNull(inboundMessages.fullText))))
  // Only where something was left out of the reply.
  return { data: rows.filter(r => r.fullText!.trim() !== r.body.trim()).map(r => ({ commentId: r.commentId!, fullText: r.fullText! })) }
}
