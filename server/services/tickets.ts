import { and, arrayOverlaps, asc, desc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm'
import { staffRoles } from '#shared/types/user'
import type { SQL } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { createError } from 'h3'
import { z } from 'zod'
import type { Ticket, TicketCreate, TicketEvent, TicketStatus, TicketUpdate } from '../../shared/types/ticket'
import { requesterStatuses, ticketPriorities, ticketStatuses } from '../../shared/types/ticket'
import { hasRole, isStaff } from '../../shared/utils/roles'
import type { Database } from '../db/client'
import { orgs, ticketEvents, tickets, users } from '../db/schema'
import type { TicketRow } from '../db/schema'
import { useConfig } from '../utils/config'
import { cursorNumber, pageOf } from '../utils/cursor'
import type { Principal } from '../utils/principal'
import { asPrincipal, ticketVisibility } from './visibility'

export const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Ticket not found.' })
const forbidden = (message: string) => createError({ statusCode: 403, statusMessage: 'Forbidden', message })
const badInput = (field: string, problem: string) =>
  createError({ statusCode: 400, statusMessage: 'Invalid input', message: `${field}: ${problem}`, data: { issues: [{ field, problem }] } })

/** `/api/tickets/:id` takes the uuid or the human number; anything else cannot exist. */
export function ticketKey(id: string): SQL {
  if (/^\d{1,9}$/.test(id)) return eq(tickets.number, Number(id))
  if (z.uuid().safeParse(id).success) return eq(tickets.id, id)
  throw notFound()
}

const requester = alias(users, 'requester')
const assignee = alias(users, 'assignee')

const ticketColumns = {
  id: tickets.id,
  number: tickets.number,
  title: tickets.title,
  body: tickets.body,
  status: tickets.status,
  priority: tickets.priority,
  tags: tickets.tags,
  requester: { id: requester.id, name: requester.name },
  assignee: { id: assignee.id, name: assignee.name },
  org: { slug: orgs.slug, name: orgs.name },
  createdAt: tickets.createdAt,
  updatedAt: tickets.updatedAt,
}

function selectTickets(db: Database) {
  return db.select(ticketColumns).from(tickets)
    .innerJoin(requester, eq(requester.id, tickets.requesterId))
    .leftJoin(assignee, eq(assignee.id, tickets.assigneeId))
    .leftJoin(orgs, eq(orgs.id, tickets.orgId))
}

type TicketSelection = Awaited<ReturnType<ReturnType<typeof selectTickets>['execute']>>[number]

function toTicket(row: TicketSelection): Ticket {
  return { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() }
}

const commaList = <T extends string>(values: readonly [T, ...T[]]) =>
  z.string().transform(s => s.split(',').map(v => v.trim()).filter(Boolean)).pipe(z.array(z.enum(values)).min(1))

export function ticketListQuerySchema(maxPageSize: number) {
  return z.object({
    status: commaList(ticketStatuses).optional(),
    priority: commaList(ticketPriorities).optional(),
    assignee: z.union([z.literal('me'), z.literal('none'), z.uuid()]).optional(),
    org: z.string().trim().min(1).max(64).optional(),
    q: z.string().trim().max(200).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(maxPageSize, `must be at most ${maxPageSize}`).default(Math.min(25, maxPageSize)),
  })
}
export type TicketListQuery = z.infer<ReturnType<typeof ticketListQuerySchema>>

/** Newest first, keyset-paginated on the ticket number. */
export async function listTickets(principal: Principal, query: TicketListQuery) {
  const conditions: (SQL | undefined)[] = [ticketVisibility(principal)]
  if (query.status) conditions.push(inArray(tickets.status, query.status))
  if (query.priority) conditions.push(inArray(tickets.priority, query.priority))
  if (query.assignee === 'me') conditions.push(eq(tickets.assigneeId, principal.userId))
  else if (query.assignee === 'none') conditions.push(isNull(tickets.assigneeId))
  else if (query.assignee) conditions.push(eq(tickets.assigneeId, query.assignee))
  if (query.org) conditions.push(eq(orgs.slug, query.org))
  if (query.q) conditions.push(sql`${tickets.search} @@ websearch_to_tsquery('english', ${query.q})`)
  if (query.cursor) conditions.push(lt(tickets.number, cursorNumber(query.cursor, 'integer')))

  const rows = await asPrincipal(principal, tx => selectTickets(tx).where(and(...conditions)).orderBy(desc(tickets.number)).limit(query.limit + 1))
  const page = pageOf(rows, query.limit, r => [r.number])
  return { data: page.data.map(toTicket), meta: page.meta }
}

export async function getTicket(principal: Principal, id: string): Promise<Ticket> {
  const key = ticketKey(id)
  const [row] = await asPrincipal(principal, tx => selectTickets(tx).where(and(key, ticketVisibility(principal))))
  if (!row) throw notFound()
  return toTicket(row)
}

/** The visible ticket's row, locked for the rest of the transaction; 404 when not visible. */
export async function lockVisibleTicket(tx: Database, principal: Principal, id: string): Promise<TicketRow> {
  const [row] = await tx.select().from(tickets).where(and(ticketKey(id), ticketVisibility(principal))).for('update')
  if (!row) throw notFound()
  return row
}

/** The id of a ticket the caller may see, or 404. */
export async function visibleTicketId(db: Database, principal: Principal, id: string): Promise<string> {
  const [row] = await db.select({ id: tickets.id }).from(tickets).where(and(ticketKey(id), ticketVisibility(principal)))
  if (!row) throw notFound()
  return row.id
}

export async function createTicket(principal: Principal, input: TicketCreate): Promise<Ticket> {
  let orgIndex = 0
  if (input.org) {
    orgIndex = principal.orgs.indexOf(input.org)
    if (orgIndex < 0) throw badInput('org', 'you are not a member of this organisation')
  }
  const orgId = principal.orgIds[orgIndex] ?? null
  const id = await asPrincipal(principal, async (tx) => {
    const [ticket] = await tx.insert(tickets).values({
      title: input.title,
      body: input.body,
      priority: input.priority ?? 'normal',
      requesterId: principal.userId,
      orgId,
    }).returning({ id: tickets.id })
    await tx.insert(ticketEvents).values({ ticketId: ticket!.id, actorId: principal.userId, type: 'created' })
    return ticket!.id
  })
  return getTicket(principal, id)
}

async function staffMember(db: Database, userId: string) {
  const [row] = await db.select({ id: users.id, name: users.name }).from(users)
    .where(and(eq(users.id, userId), eq(users.active, true), arrayOverlaps(users.roles, [...staffRoles])))
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
      if (!managing && !(takingOrDropping && (row.assigneeId === null || row.assigneeId === principal.userId))) {
        throw forbidden('Only managers can assign tickets to others.')
      }
      const next = patch.assigneeId ? await staffMember(tx, patch.assigneeId) : null
      if (next === undefined) throw badInput('assigneeId', 'not an active agent')
      const previous = row.assigneeId ? await tx.select({ id: users.id, name: users.name }).from(users).where(eq(users.id, row.assigneeId)).then(r => r[0] ?? null) : null
      changes.assigneeId = patch.assigneeId
      events.push({ type: 'assignee', fromValue: previous, toValue: next })
    }

    if (events.length) {
      // History first: after the update the caller may no longer see the ticket (e.g. an assigned-only agent dropping it).
      await tx.insert(ticketEvents).values(events.map(e => ({ ...e, ticketId: row.id, actorId: principal.userId })))
      await tx.update(tickets).set({ ...changes, updatedAt: new Date() }).where(eq(tickets.id, row.id))
    }
    return row.id
  })
  return getTicket(principal, ticketId)
}

export const threadQuerySchema = () => z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(useConfig().MAX_PAGE_SIZE).default(useConfig().MAX_PAGE_SIZE),
})
export type ThreadQuery = z.infer<ReturnType<typeof threadQuerySchema>>

/** Oldest first: the ticket's history as the thread shows it. */
export async function listTicketEvents(principal: Principal, id: string, query: ThreadQuery) {
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
    .where(and(eq(ticketEvents.ticketId, await visibleTicketId(tx, principal, id)), query.cursor ? gt(ticketEvents.seq, cursorNumber(query.cursor, 'bigint')) : undefined))
    .orderBy(asc(ticketEvents.seq)).limit(query.limit + 1))
  const page = pageOf(rows, query.limit, r => [r.seq])
  return { data: page.data.map(({ seq: _, ...r }) => ({ ...r, type: r.type as TicketEvent['type'], createdAt: r.createdAt.toISOString() })), meta: page.meta }
}
