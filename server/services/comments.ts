import { and, asc, eq, gt, isNull } from 'drizzle-orm'
import { createError } from 'h3'
import type { Comment, CommentCreate, TicketStatus } from '../../shared/types/ticket'
import { comments, ticketEvents, tickets, users } from '../db/schema'
import { cursorNumber, pageOf } from '../utils/cursor'
import type { Principal } from '../utils/principal'
import type { ThreadQuery } from './tickets'
import { lockVisibleTicket, visibleTicketId } from './tickets'
import { asPrincipal, canSeeInternalNotes } from './visibility'

const commentColumns = {
  id: comments.id,
  body: comments.body,
  internal: comments.internal,
  author: { id: users.id, name: users.name },
  seq: comments.seq,
  createdAt: comments.createdAt,
}

/** The thread's comments, oldest first; internal notes only for agents and above. */
export async function listComments(principal: Principal, id: string, query: ThreadQuery) {
  const rows = await asPrincipal(principal, async tx => tx.select(commentColumns).from(comments).innerJoin(users, eq(users.id, comments.authorId))
    .where(and(
      eq(comments.ticketId, await visibleTicketId(tx, principal, id)),
      canSeeInternalNotes(principal) ? undefined : eq(comments.internal, false),
      query.cursor ? gt(comments.seq, cursorNumber(query.cursor, 'bigint')) : undefined,
    ))
    .orderBy(asc(comments.seq)).limit(query.limit + 1))
  const page = pageOf(rows, query.limit, r => [r.seq])
  return { data: page.data.map(toComment), meta: page.meta }
}

function toComment({ seq: _, ...row }: { id: string, body: string, internal: boolean, author: { id: string, name: string }, seq: number, createdAt: Date }): Comment {
  return { ...row, createdAt: row.createdAt.toISOString() }
}

/**
 * What a public reply does to the ticket's status: the requester answering a waiting or
 * finished ticket reopens it; the first agent reply takes a new ticket into work.
 */
function statusAfterReply(current: TicketStatus, byRequester: boolean): TicketStatus {
  if (byRequester) return ['pending', 'resolved', 'closed'].includes(current) ? 'open' : current
  return current === 'new' ? 'open' : current
}

export async function addComment(principal: Principal, id: string, input: CommentCreate): Promise<Comment> {
  if (input.internal && !canSeeInternalNotes(principal)) {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only agents can add internal notes.' })
  }
  return asPrincipal(principal, async (tx) => {
    const ticket = await lockVisibleTicket(tx, principal, id)
    const [comment] = await tx.insert(comments)
      .values({ ticketId: ticket.id, authorId: principal.userId, body: input.body, internal: input.internal })
      .returning({ id: comments.id })
    const now = new Date()
    const changes: Partial<typeof tickets.$inferInsert> = { updatedAt: now }
    if (!input.internal) {
      const byRequester = ticket.requesterId === principal.userId
      const status = statusAfterReply(ticket.status, byRequester)
      if (status !== ticket.status) {
        changes.status = status
        if (ticket.resolvedAt) changes.resolvedAt = null
        await tx.insert(ticketEvents).values({ ticketId: ticket.id, actorId: principal.userId, type: 'status', fromValue: ticket.status, toValue: status })
      }
      if (!byRequester && canSeeInternalNotes(principal)) {
        await tx.update(tickets).set({ firstResponseAt: now }).where(and(eq(tickets.id, ticket.id), isNull(tickets.firstResponseAt)))
      }
    }
    await tx.update(tickets).set(changes).where(eq(tickets.id, ticket.id))
    const [row] = await tx.select(commentColumns).from(comments).innerJoin(users, eq(users.id, comments.authorId)).where(eq(comments.id, comment!.id))
    return toComment(row!)
  })
}
