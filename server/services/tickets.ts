import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { z } from 'zod'
import type { Ticket, TicketCreate, TicketEvent, TicketListResponse, TicketUpdate } from '../../shared/types/ticket'
import type { TicketStatus } from '../../shared/utils/tickets'
import { requesterStatuses } from '../../shared/utils/tickets'
import { staffRoles, hasRole, isStaff } from '../../shared/utils/roles'
import { renderMarkdown } from '../../shared/utils/markdown'
import type { Database } from '../db/client'
import { ticketEvents, ticketReads, tickets, users } from '../db/schema'
import type { TicketRow } from '../db/schema'
import { useConfig } from '../utils/config'
import { badRequest, forbidden, notFound } from '../utils/errors'
import { cursorNumber, pageOf } from '../utils/cursor'
import type { Principal } from '../utils/principal'
import { rolesInclude } from '../utils/role-sql'
import type { UserWithOrgs } from './users'
import type { TicketListQuery } from './ticket-list'
import { readTicketList, selectTickets, toTicket } from './ticket-list'
import { asPrincipal, canSeeTicket, eventVisibility, ticketVisibility } from './visibility'
import { notifyTicketChange } from './mail/notify'
import { canTakeOver } from './assignees'
import { announceTicketChange } from './live/events'

export const ticketNotFound = () => notFound('Ticket not found.')
const badInput = (field: string, problem: string) => badRequest({ field, problem })

/** `/api/tickets/:id` takes the uuid or the human number; anything else cannot exist. */
export function ticketKey(id: string): SQL {
  if (/^\d{1,9}$/.test(id)) return eq(tickets.number, Number(id))
  if (z.uuid().safeParse(id).success) return eq(tickets.id, id)
  throw ticketNotFound()
}

/** The queue: filters, sorts, search, totals and unread markers (server/services/ticket-list.ts). */
export async function listTickets(principal: Principal, query: TicketListQuery): Promise<TicketListResponse> {
  return asPrincipal(principal, tx => readTicketList(tx, principal, query))
}

/** One ticket; opening it marks it read for the caller (up to its latest change). */
export async function getTicket(principal: Principal, id: string): Promise<Ticket> {
  const key = ticketKey(id)
  const row = await asPrincipal(principal, async (tx) => {
    const [found] = await selectTickets(tx, principal).where(and(key, ticketVisibility(principal)))
    if (found) await markRead(tx, principal, found.id)
    return found
  })
  if (!row) throw ticketNotFound()
  return { ...toTicket(row), bodyHtml: renderMarkdown(row.body) }
}

async function markRead(tx: Database, principal: Principal, ticketId: string) {
  await tx.insert(ticketReads)
    .values({ userId: principal.userId, ticketId, seenAt: sql`(select ${tickets.activityAt} from ${tickets} where ${tickets.id} = ${ticketId})` })
    .onConflictDoUpdate({ target: [ticketReads.userId, ticketReads.ticketId], set: { seenAt: sql`excluded.seen_at` }, setWhere: sql`${ticketReads.seenAt} is distinct from excluded.seen_at` })
}

/** The visible ticket's row, locked for the rest of the transaction; 404 when not visible. */
export async function lockVisibleTicket(tx: Database, principal: Principal, id: string): Promise<TicketRow> {
  const [row] = await tx.select().from(tickets).where(and(ticketKey(id), ticketVisibility(principal))).for('update')
  if (!row) throw ticketNotFound()
  return row
}

/** The id of a ticket the caller may see, or 404. */
export async function visibleTicketId(db: Database, principal: Principal, id: string): Promise<string> {
  const [row] = await db.select({ id: tickets.id }).from(tickets).where(and(ticketKey(id), ticketVisibility(principal)))
  if (!row) throw ticketNotFound()
  return row.id
}

/**
 * Opens a ticket for the caller, or, when staff open it on someone's behalf, for that requester:
 * the ticket is theirs (their organisation), and its history records who opened it.
 * `options.id`: the new ticket's id, for a caller that must find it again after a crash (mail).
 */
export async function createTicket(principal: Principal, input: TicketCreate, onBehalfOf?: UserWithOrgs, options: { id?: string } = {}): Promise<Ticket> {
  const requesterOrgs = onBehalfOf ? onBehalfOf.orgs : principal.orgs.map((slug, i) => ({ slug, id: principal.orgIds[i]! }))
  let orgIndex = 0
  if (input.org) {
    orgIndex = requesterOrgs.findIndex(o => o.slug === input.org)
    if (orgIndex < 0) throw badInput('org', onBehalfOf ? 'is not one of the requester’s' : 'is not one of yours')
  }
  const orgId = requesterOrgs[orgIndex]?.id ?? null
  const requesterId = onBehalfOf?.id ?? principal.userId
  if (!canSeeTicket(principal, { requesterId, assigneeId: null, orgId })) throw badInput('requester', 'belongs to an organisation whose tickets you do not see')
  const id = await asPrincipal(principal, async (tx) => {
    const [ticket] = await tx.insert(tickets).values({
      id: options.id,
      title: input.title,
      body: input.body,
      priority: input.priority ?? 'normal',
      requesterId,
      orgId,
    }).returning({ id: tickets.id })
    const forRequester = onBehalfOf && onBehalfOf.id !== principal.userId ? { requester: { id: onBehalfOf.id, name: onBehalfOf.name } } : null
    await tx.insert(ticketEvents).values({ ticketId: ticket!.id, actorId: principal.userId, type: 'created', toValue: forRequester })
    await notifyTicketChange(tx, principal, ticket!.id, { type: 'created' })
    return ticket!.id
  })
  await announceTicketChange(id, undefined, principal.userId, ['created'])
  return getTicket(principal, id)
}

async function staffMember(db: Database, userId: string) {
  const [row] = await db.select({ id: users.id, name: users.name }).from(users)
    .where(and(eq(users.id, userId), eq(users.active, true), rolesInclude(users.roles, staffRoles)))
  return row
}

function checkRequesterChange(principal: Principal, row: TicketRow, patch: TicketUpdate) {
  const fields = Object.entries(patch).filter(([, v]) => v !== undefined).map(([k]) => k)
  if (row.requesterId !== principal.userId || fields.some(f => f !== 'status') || !requesterStatuses.includes(patch.status!)) {
    throw forbidden('Requesters may only resolve, close or reopen their own tickets.')
  }
}

function statusTimestamps(from: TicketStatus, to: TicketStatus): Partial<TicketRow> {
  const done = (s: TicketStatus) => s === 'resolved' || s === 'closed'
  if (!done(from) && done(to)) return { resolvedAt: new Date() }
  if (done(from) && !done(to)) return { resolvedAt: null }
  return {}
}

export async function updateTicket(principal: Principal, id: string, patch: TicketUpdate): Promise<Ticket> {
  let announced: Parameters<typeof announceTicketChange> | undefined
  const ticketId = await asPrincipal(principal, async (tx) => {
    const row = await lockVisibleTicket(tx, principal, id)
    if (!isStaff(principal.roles)) checkRequesterChange(principal, row, patch)

    const changes: Partial<TicketRow> = {}
    const events: { type: TicketEvent['type'], fromValue: unknown, toValue: unknown }[] = []
    const record = <K extends 'title' | 'status' | 'priority' | 'tags'>(key: K, value: TicketRow[K] | undefined) => {
      if (value === undefined || JSON.stringify(value) === JSON.stringify(row[key])) return
      changes[key] = value
      events.push({ type: key, fromValue: row[key], toValue: value })
    }
    record('title', patch.title)
    record('priority', patch.priority)
    record('tags', patch.tags && [...new Set(patch.tags)])
    record('status', patch.status)
    if (changes.status) Object.assign(changes, statusTimestamps(row.status, changes.status))

    if (patch.assigneeId !== undefined && patch.assigneeId !== row.assigneeId) {
      const managing = hasRole(principal.roles, 'manager')
      const takingOrDropping = patch.assigneeId === principal.userId || (patch.assigneeId === null && row.assigneeId === principal.userId)
      // Agents take, drop or hand over their own or unassigned tickets, to colleagues who can see them.
      const handingOver = !!patch.assigneeId && !takingOrDropping && await canTakeOver(tx, patch.assigneeId, row)
      if (!managing && !((takingOrDropping || handingOver) && (row.assigneeId === null || row.assigneeId === principal.userId))) {
        throw forbidden('Agents can assign their own or unassigned tickets only, to colleagues who can see them.')
      }
      const next = patch.assigneeId ? await staffMember(tx, patch.assigneeId) : null
      if (next === undefined) throw badInput('assigneeId', 'is not an active agent')
      const previous = row.assigneeId ? await tx.select({ id: users.id, name: users.name }).from(users).where(eq(users.id, row.assigneeId)).then(r => r[0] ?? null) : null
      changes.assigneeId = patch.assigneeId
      events.push({ type: 'assignee', fromValue: previous, toValue: next })
    }

    if (events.length) {
      // History first: after the update the caller may no longer see the ticket (e.g. an assigned-only agent dropping it).
      await tx.insert(ticketEvents).values(events.map(e => ({ ...e, ticketId: row.id, actorId: principal.userId })))
      // Requesters see title and status; priority, tags and assignee are staff business (issue 10: no leak through updatedAt).
      const seenByRequester = events.some(e => e.type === 'title' || e.type === 'status')
      const now = sql`now()`
      await tx.update(tickets).set({
        ...changes,
        activityAt: now,
        activityBy: principal.userId,
        ...(seenByRequester ? { updatedAt: now, updatedBy: principal.userId } : {}),
      }).where(eq(tickets.id, row.id))
      await notifyTicketChange(tx, principal, { ...row, ...changes }, { type: 'updated', before: row })
      announced = [{ ...row, ...changes }, row, principal.userId, events.map(e => e.type)]
    }
    return row.id
  })
  if (announced) await announceTicketChange(...announced)
  return getTicket(principal, ticketId)
}

export const threadQuerySchema = () => z.object({
  cursor: z.string().max(200).optional(),
  // `newest`: the latest entries first, the cursor pages back in time (a long thread opens on its end).
  order: z.enum(['oldest', 'newest'], 'must be oldest or newest').default('oldest'),
  limit: z.coerce.number().int().min(1).max(useConfig().MAX_PAGE_SIZE).default(useConfig().MAX_PAGE_SIZE),
})
export type ThreadQuery = z.infer<ReturnType<typeof threadQuerySchema>>

/** The ticket's history as the thread shows it: oldest first, or newest first with `order=newest`. */
export async function listTicketEvents(principal: Principal, id: string, query: ThreadQuery) {
  const newest = query.order === 'newest'
  const actor = alias(users, 'actor')
  const rows = await asPrincipal(principal, async tx => tx.select({
    id: ticketEvents.id,
    type: ticketEvents.type,
    from: ticketEvents.fromValue,
    to: ticketEvents.toValue,
    actor: { id: actor.id, name: actor.name },
    seq: ticketEvents.seq,
    createdAt: ticketEvents.createdAt,
  }).from(ticketEvents).leftJoin(actor, eq(actor.id, ticketEvents.actorId))
    .where(and(eq(ticketEvents.ticketId, await visibleTicketId(tx, principal, id)), eventVisibility(principal), query.cursor ? (newest ? lt : gt)(ticketEvents.seq, cursorNumber(query.cursor, 'bigint')) : undefined))
    .orderBy(newest ? desc(ticketEvents.seq) : asc(ticketEvents.seq)).limit(query.limit + 1))
  const page = pageOf(rows, query.limit, r => [r.seq])
  return { data: page.data.map(({ seq: _, ...r }) => ({ ...r, type: r.type as TicketEvent['type'], createdAt: r.createdAt.toISOString() })), meta: page.meta }
}
