import { and, asc, desc, eq, gt, isNull, lt, ne, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { createError } from 'h3'
import type { Comment, CommentCreate, NewerEntry, TicketEvent } from '../../shared/types/ticket'
import type { TicketStatus } from '../../shared/utils/tickets'
import { renderMarkdown } from '../../shared/utils/markdown'
import type { Database } from '../db/client'
import { comments, ticketEvents, tickets, users } from '../db/schema'
import type { TicketRow } from '../db/schema'
import { cursorNumber, pageOf } from '../utils/cursor'
import type { Principal } from '../utils/principal'
import { announceComment, announceTicketChange } from './live/events'
import type { ThreadQuery } from './tickets'
import { notifyTicketChange } from './mail/notify'
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

/**
 * The thread's comments; internal notes only for agents and above. Oldest first by default;
 * `order=newest` pages backwards from the latest, so a long thread opens on its newest replies.
 */
export async function listComments(principal: Principal, id: string, query: ThreadQuery) {
  const newest = query.order === 'newest'
  const rows = await asPrincipal(principal, async tx => tx.select(commentColumns).from(comments).innerJoin(users, eq(users.id, comments.authorId))
    .where(and(
      eq(comments.ticketId, await visibleTicketId(tx, principal, id)),
      canSeeInternalNotes(principal) ? undefined : eq(comments.internal, false),
      query.cursor ? (newest ? lt : gt)(comments.seq, cursorNumber(query.cursor, 'bigint')) : undefined,
    ))
    .orderBy(newest ? desc(comments.seq) : asc(comments.seq)).limit(query.limit + 1))
  const page = pageOf(rows, query.limit, r => [r.seq])
  return { data: page.data.map(toComment), meta: page.meta }
}

function toComment({ seq: _, ...row }: { id: string, body: string, internal: boolean, author: { id: string, name: string }, seq: number, createdAt: Date }): Comment {
  return { ...row, html: renderMarkdown(row.body), createdAt: row.createdAt.toISOString() }
}

/**
 * What a public reply does to the ticket's status: the requester answering a waiting or
 * finished ticket reopens it; the first agent reply takes a new ticket into work.
 */
function statusAfterReply(current: TicketStatus, byRequester: boolean): TicketStatus {
  if (byRequester) return ['pending', 'resolved', 'closed'].includes(current) ? 'open' : current
  return current === 'new' ? 'open' : current
}

/**
 * Public replies and status changes by others after `seenUpTo`: what the author would
 * contradict without knowing. Runs under the ticket's row lock, so two replies racing each
 * other are decided one after the other.
 */
async function newerThan(tx: Database, principal: Principal, ticketId: string, seenUpTo: Date): Promise<NewerEntry[]> {
  const replies = await tx.select(commentColumns).from(comments).innerJoin(users, eq(users.id, comments.authorId))
    .where(and(eq(comments.ticketId, ticketId), eq(comments.internal, false), ne(comments.authorId, principal.userId), gt(comments.createdAt, seenUpTo)))
    .orderBy(asc(comments.seq))
  const actor = alias(users, 'actor')
  const changes = await tx.select({
    id: ticketEvents.id, type: ticketEvents.type, from: ticketEvents.fromValue, to: ticketEvents.toValue,
    actor: { id: actor.id, name: actor.name }, createdAt: ticketEvents.createdAt,
  }).from(ticketEvents).leftJoin(actor, eq(actor.id, ticketEvents.actorId))
    .where(and(eq(ticketEvents.ticketId, ticketId), eq(ticketEvents.type, 'status'), sql`${ticketEvents.actorId} is distinct from ${principal.userId}`, gt(ticketEvents.createdAt, seenUpTo)))
    .orderBy(asc(ticketEvents.seq))
  return [
    ...replies.map(r => ({ kind: 'comment' as const, comment: toComment(r) })),
    ...changes.map(e => ({ kind: 'event' as const, event: { ...e, type: e.type as TicketEvent['type'], createdAt: e.createdAt.toISOString() } })),
  ].sort((a, b) => (a.kind === 'comment' ? a.comment.createdAt : a.event.createdAt).localeCompare(b.kind === 'comment' ? b.comment.createdAt : b.event.createdAt))
}

export interface ReplyConflict { statusCode: 409, statusMessage: 'Conflict', message: string, newer: NewerEntry[] }

/**
 * Adds a reply or an internal note. With `seenUpTo` and without `confirm`, a public reply or a
 * status change by someone else since then answers a conflict and posts nothing. `options.id`:
 * the new comment's id, for a caller that must find it again after a crash (mail).
 */
export async function addComment(principal: Principal, id: string, input: CommentCreate, options: { id?: string } = {}): Promise<Comment | ReplyConflict> {
  if (input.internal && !canSeeInternalNotes(principal)) {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only agents can add internal notes.' })
  }
  let statusChange: Parameters<typeof announceTicketChange> | undefined
  const result = await asPrincipal(principal, async (tx): Promise<{ comment: Comment, ticket: TicketRow } | ReplyConflict> => {
    const ticket = await lockVisibleTicket(tx, principal, id)
    if (input.seenUpTo && !input.confirm) {
      const newer = await newerThan(tx, principal, ticket.id, new Date(input.seenUpTo))
      if (newer.length) return { statusCode: 409, statusMessage: 'Conflict', message: 'Someone else replied or changed the status since you opened the ticket.', newer }
    }
    const [comment] = await tx.insert(comments)
      .values({ id: options.id, ticketId: ticket.id, authorId: principal.userId, body: input.body, internal: input.internal })
      .returning({ id: comments.id })
    const now = new Date()
    // The comment's trigger moves the ticket's activity times (a note only the staff one).
    const changes: Partial<typeof tickets.$inferInsert> = {}
    if (!input.internal) {
      const byRequester = ticket.requesterId === principal.userId
      const status = statusAfterReply(ticket.status, byRequester)
      if (status !== ticket.status) {
        changes.status = status
        if (ticket.resolvedAt) changes.resolvedAt = null
        await tx.insert(ticketEvents).values({ ticketId: ticket.id, actorId: principal.userId, type: 'status', fromValue: ticket.status, toValue: status })
        statusChange = [ticket, ticket, principal.userId, ['status']]
      }
      if (!byRequester && canSeeInternalNotes(principal)) {
        await tx.update(tickets).set({ firstResponseAt: now }).where(and(eq(tickets.id, ticket.id), isNull(tickets.firstResponseAt)))
      }
    }
    if (Object.keys(changes).length) await tx.update(tickets).set(changes).where(eq(tickets.id, ticket.id))
    await notifyTicketChange(tx, principal, ticket, { type: 'comment', commentId: comment!.id, internal: !!input.internal, body: input.body })
    const [row] = await tx.select(commentColumns).from(comments).innerJoin(users, eq(users.id, comments.authorId)).where(eq(comments.id, comment!.id))
    return { comment: toComment(row!), ticket }
  })
  if ('newer' in result) return result
  // The ticket as locked for the reply (a reply changes none of the facts that decide who hears it),
  // so the event needs no query of its own after the commit.
  await announceComment(result.ticket, result.comment, principal.userId)
  if (statusChange) await announceTicketChange(...statusChange)
  return result.comment
}
