import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import type { Column, SQL } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { z } from 'zod'
import type { Ticket, TicketListItem, TicketListResponse } from '../../shared/types/ticket'
import type { TicketSort } from '../../shared/utils/tickets'
import { TICKET_TOTAL_CAP, ticketPriorities, ticketSorts, ticketStatuses } from '../../shared/utils/tickets'
import type { Database } from '../db/client'
import { orgs, ticketReads, tickets, users } from '../db/schema'
import { decodeCursor, encodeCursor, INT4_MAX, isIntegerIn } from '../utils/cursor'
import type { Principal } from '../utils/principal'
import { canSeeInternalNotes, ticketVisibility, ticketVisibilityParts } from './visibility'

/*
 * Reading tickets: the queue's list (filters, sorts, search, totals, unread markers) and the
 * columns of one ticket. Every query carries `ticketVisibility` and runs under row-level
 * security; search finds a page of ids through `search_tickets()` (docs/search.md), and the page
 * is then read from `tickets` like any other.
 */

const requester = alias(users, 'requester')
const assignee = alias(users, 'assignee')

/**
 * When a ticket last changed, as the caller may know it: staff see every change (`activity_at`,
 * internal notes included); requesters see public changes only (`updated_at`).
 */
const lastChange = (principal: Principal) => canSeeInternalNotes(principal)
  ? { at: tickets.activityAt, by: tickets.activityBy }
  : { at: tickets.updatedAt, by: tickets.updatedBy }

/** The columns of a `Ticket`, with the requester, assignee and organisation joined. */
export function selectTickets(db: Database, principal: Principal) {
  const change = lastChange(principal)
  return db.select({
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
    updatedAt: change.at,
    // Someone else changed it since the caller last opened it (or ever, if they never did).
    unread: sql<boolean>`(${change.by} is distinct from ${principal.userId}::uuid and (${ticketReads.seenAt} is null or ${change.at} > ${ticketReads.seenAt}))`,
  }).from(tickets)
    .innerJoin(requester, eq(requester.id, tickets.requesterId))
    .leftJoin(assignee, eq(assignee.id, tickets.assigneeId))
    .leftJoin(orgs, eq(orgs.id, tickets.orgId))
    .leftJoin(ticketReads, and(eq(ticketReads.ticketId, tickets.id), eq(ticketReads.userId, principal.userId)))
}

type TicketSelection = Awaited<ReturnType<ReturnType<typeof selectTickets>['execute']>>[number]

export function toListItem(row: TicketSelection): TicketListItem {
  return { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() }
}

export function toTicket({ unread: _, ...row }: TicketSelection): Ticket {
  return { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() }
}

const commaList = <T extends string>(values: readonly [T, ...T[]]) =>
  z.string().transform(s => s.split(',').map(v => v.trim()).filter(Boolean)).pipe(z.array(z.enum(values)).min(1))

const listQuerySchemas = new Map<number, ReturnType<typeof buildListQuerySchema>>()

/** The list's query string for a page size limit (built once per limit: zod schemas cost to build). */
export function ticketListQuerySchema(maxPageSize: number) {
  let schema = listQuerySchemas.get(maxPageSize)
  if (!schema) listQuerySchemas.set(maxPageSize, schema = buildListQuerySchema(maxPageSize))
  return schema
}

function buildListQuerySchema(maxPageSize: number) {
  return z.object({
    status: commaList(ticketStatuses).optional(),
    priority: commaList(ticketPriorities).optional(),
    assignee: z.union([z.literal('me'), z.literal('none'), z.uuid()]).optional(),
    org: z.string().trim().min(1).max(64).optional(),
    q: z.string().trim().max(200).optional(),
    sort: z.enum(ticketSorts, { error: `must be one of ${ticketSorts.join(', ')}` }).optional(),
    cursor: z.string().max(300).optional(),
    limit: z.coerce.number().int().min(1).max(maxPageSize, `must be at most ${maxPageSize}`).default(Math.min(25, maxPageSize)),
  })
}
export type TicketListQuery = z.infer<ReturnType<typeof buildListQuerySchema>>

/** What `q` asks for: web-search syntax, the last word also as a prefix, or a ticket number. */
export interface SearchTerms {
  websearch: string
  /** The last plain word (3+ letters or digits), matched as the start of a word too. */
  prefix: string | null
  /** The prefix is the right side of an `or`. */
  orPrefix: boolean
  number: number | null
}

export function parseSearch(q: string): SearchTerms {
  const text = q.trim()
  const numbered = /^#?(\d{1,10})$/.exec(text)
  if (numbered) {
    const number = Number(numbered[1])
    return { websearch: numbered[1]!, prefix: null, orPrefix: false, number: number <= INT4_MAX ? number : null }
  }
  // A last word outside quotes and not negated: `printer outl` → printer & outl:*.
  const last = /(^|\s)([\p{L}\p{N}]{3,})$/u.exec(text)
  const quotesBefore = last ? (text.slice(0, last.index).match(/"/g) ?? []).length : 0
  if (!last || quotesBefore % 2 === 1 || last[2]!.toLowerCase() === 'or') return { websearch: text, prefix: null, orPrefix: false, number: null }
  let head = text.slice(0, last.index).trim()
  const orPrefix = /(^|\s)or$/i.test(head)
  if (orPrefix) head = head.slice(0, -2).trim()
  return { websearch: head, prefix: last[2]!.toLowerCase(), orPrefix, number: null }
}

/**
 * The tsquery of the search; the prefix matches stemmed (`printers` → printer) and as typed
 * (`outl` → outlook). `search_prefix()` turns it into the few whole words it starts when it
 * starts a few (`toner:*` → toner: 13 ms instead of 23 for 60,000 matches at a million tickets,
 * since a GIN prefix match gathers its postings into a bitmap of its own first).
 */
export function searchQuery(terms: SearchTerms): SQL {
  const prefix = terms.prefix === null ? undefined : sql`search_prefix(${terms.prefix})`
  const head = terms.websearch ? sql`websearch_to_tsquery('english', ${terms.websearch})` : undefined
  if (head && prefix) return terms.orPrefix ? sql`(${head} || ${prefix})` : sql`(${head} && ${prefix})`
  return head ?? prefix ?? sql`''::tsquery`
}

/**
 * One sort key: its column, how it leaves the statement (a number, so cursors are plain JSON),
 * how a cursor's value is compared with it, and the range a cursor may carry (else 400).
 */
interface SortKey { column: SQL, toNumber: (expr: SQL) => SQL, param: (v: number) => SQL, min: number, max: number }

const timeKey = (column: Column): SortKey => ({
  column: sql`${column}`,
  toNumber: e => sql`floor(extract(epoch from ${e}) * 1000)::bigint`,
  param: v => sql`${new Date(v).toISOString()}::timestamptz`,
  min: Date.UTC(1, 0, 1),
  max: Date.UTC(9999, 11, 31),
})
const intKey = (column: Column, max: number, type = sql`int`): SortKey => ({ column: sql`${column}`, toNumber: e => e, param: v => sql`${v}::${type}`, min: 0, max })

/** Every list sort is newest (or most urgent) first, with the ticket number breaking ties. */
function sortKeys(sort: Exclude<TicketSort, 'relevance'>, principal: Principal): SortKey[] {
  const number = intKey(tickets.number, INT4_MAX)
  const changed = timeKey(lastChange(principal).at)
  switch (sort) {
    case 'number': return [number]
    case 'created': return [timeKey(tickets.createdAt), number]
    case 'priority': return [intKey(tickets.priorityRank, 3, sql`smallint`), changed, number]
    case 'updated': return [changed, number]
  }
}

/** Relevance tiers: the ticket with the searched number, then title hits, then the rest. */
const TIERS = 2

function readCursor(cursor: string, sort: TicketSort, keys: SortKey[]): number[] {
  const ranges = sort === 'relevance' ? [{ min: 0, max: TIERS }, ...keys] : keys
  const [, ...values] = decodeCursor(cursor, (v): v is [string, ...number[]] => Array.isArray(v) && v.length === ranges.length + 1
    && v[0] === sort && ranges.every((k, i) => isIntegerIn(v[i + 1], k.min, k.max)))
  return values as number[]
}

/** `(k1, k2, …) < (v1, v2, …)`: all keys descending, so PostgreSQL walks one index backwards. */
const before = (columns: SQL[], keys: SortKey[], values: number[]) =>
  sql`(${sql.join(columns, sql`, `)}) < (${sql.join(keys.map((k, i) => k.param(values[i]!)), sql`, `)})`

/** A priority's `priority_rank` is its index in ticketPriorities. */
const priorityRanks = (priorities: readonly (typeof ticketPriorities)[number][]) => priorities.map(p => ticketPriorities.indexOf(p))

/** The list's own filters (status, priority, assignee, organisation), without visibility. */
function choices(principal: Principal, query: TicketListQuery): SQL | undefined {
  return and(
    query.status && inArray(tickets.status, query.status),
    // By rank, which the count's indexes carry.
    query.priority && inArray(tickets.priorityRank, priorityRanks(query.priority)),
    query.assignee === 'me' ? eq(tickets.assigneeId, principal.userId) : query.assignee === 'none' ? isNull(tickets.assigneeId) : query.assignee ? eq(tickets.assigneeId, query.assignee) : undefined,
    query.org ? sql`${tickets.orgId} = (select ${orgs.id} from ${orgs} where ${orgs.slug} = ${query.org})` : undefined,
  )
}

function filters(principal: Principal, query: TicketListQuery): SQL {
  return and(ticketVisibility(principal), choices(principal, query))!
}

/**
 * How many tickets the list has, up to `cap`: part by part of the visibility rule (disjoint, so
 * the counts add up), each capped, the next part counted only while the cap is not reached
 * (`offset 0` keeps PostgreSQL from inlining a part's count into both arms of the `case`).
 */
function cappedTotal(principal: Principal, query: TicketListQuery, cap: SQL): SQL {
  const counts = ticketVisibilityParts(principal).map(part =>
    sql`(select count(*)::int from (select 1 from ${tickets} where ${and(part, choices(principal, query))} limit ${cap}) x)`)
  return counts.reduceRight((rest, count) => rest === null ? count : sql`(select case when n >= ${cap} then n else n + ${rest} end from (select ${count} as n offset 0) y)`, null as SQL | null)!
}

/** A whole number written into the statement, so a plan made without the parameters knows it. */
function literal(n: number): SQL {
  if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer: ${n}`)
  return sql.raw(String(n))
}

export interface ListPlan {
  /** One statement: the page's ids and sort keys, the capped total and the number jump. */
  keys: SQL
  /** A plain list (no `q`): every part of it walks one btree index range. */
  walksIndexes: boolean
  sort: TicketSort
  keyCount: number
  /** The ticket number `q` names, if it is one. */
  number: number | null
}

/**
 * The statement that finds a page. Plain lists walk the index of their sort under the
 * visibility condition; searches are answered by `search_tickets()` from the search rows and
 * their indexes. The total counts at most TICKET_TOTAL_CAP + 1 rows.
 */
export function listPlan(principal: Principal, query: TicketListQuery): ListPlan {
  const terms = query.q ? parseSearch(query.q) : null
  const sort = query.sort && (query.sort !== 'relevance' || terms) ? query.sort : terms ? 'relevance' : 'updated'
  const keys = sortKeys(sort === 'relevance' ? 'updated' : sort, principal)
  const cursor = query.cursor ? readCursor(query.cursor, sort, keys) : null
  const limit = query.limit + 1
  const cap = TICKET_TOTAL_CAP + 1

  if (!terms) {
    const names = keys.map((_, i) => sql.raw(`k${i}`))
    const selected = sql.join(keys.map((k, i) => sql`${k.column} as ${names[i]}`), sql`, `)
    const descending = (columns: SQL[]) => sql.join(columns.map(c => sql`${c} desc`), sql`, `)
    const pageKeys = keys.map((_, i) => sql.raw(`p.k${i}`))
    const output = sql`p.id, ${sql.join(keys.map((k, i) => sql`${k.toNumber(pageKeys[i]!)} as ${names[i]}`), sql`, `)}, c.total`
    const where = filters(principal, query)
    const columns = keys.map(k => k.column)
    const pageWhere = cursor ? and(where, before(columns, keys, cursor)) : where
    return {
      sort,
      keyCount: keys.length,
      number: null,
      walksIndexes: true,
      keys: sql`select ${output}, null::uuid as jump from
        (select ${cappedTotal(principal, query, literal(cap))} as total) c
        left join lateral (select ${tickets.id} as id, ${selected} from ${tickets} where ${pageWhere}
          order by ${descending(columns)} limit ${literal(limit)}) p on true
        order by ${descending(pageKeys)}`,
    }
  }

  // Search: one call of search_tickets() (docs/search.md), with the filters as its arguments.
  // Its enums and numbers are validated above, so the array literals are safe to spell out.
  const list = (values: readonly (string | number)[] | undefined, type: string) =>
    values ? sql`${`{${values.join(',')}}`}::${sql.raw(type)}` : sql`null::${sql.raw(type)}`
  const assigneeId = query.assignee === 'me' ? principal.userId : query.assignee === 'none' ? null : query.assignee ?? null
  const ranks = query.priority && priorityRanks(query.priority)
  return {
    sort,
    keyCount: keys.length,
    number: terms.number,
    walksIndexes: false,
    keys: sql`select * from search_tickets(${searchQuery(terms)}, ${terms.number}::int, ${list(query.status, 'ticket_status[]')},
      ${list(ranks, 'smallint[]')}, ${assigneeId}::uuid, ${query.assignee === 'none'}, ${query.org ?? null}::text, ${sort}, ${list(cursor ?? undefined, 'bigint[]')},
      ${limit}::int, ${cap}::int)`,
  }
}

export interface KeyRow { id: string | null, tier?: number | null, total: number, jump: string | null, [key: string]: unknown }

/** The page's ids, the next cursor and the meta, from the rows of `listPlan(…).keys`. */
export function pageOfKeys(plan: ListPlan, rows: KeyRow[], limit: number) {
  const found = rows.filter(r => r.id !== null)
  const data = found.slice(0, limit)
  const last = data.at(-1)
  const keyOf = (r: KeyRow) => [
    ...(plan.sort === 'relevance' ? [Number(r.tier)] : []),
    ...Array.from({ length: plan.keyCount }, (_, i) => Number(r[`k${i}`])),
  ]
  const total = rows[0]?.total ?? 0
  return {
    ids: data.map(r => r.id!),
    nextCursor: found.length > limit && last ? encodeCursor([plan.sort, ...keyOf(last)]) : null,
    total: Math.min(total, TICKET_TOTAL_CAP),
    totalCapped: total > TICKET_TOTAL_CAP,
    jump: rows[0]?.jump && plan.number !== null ? { id: rows[0].jump, number: plan.number } : null,
  }
}

/** The list page: its keys in one statement, then the tickets of the page with their unread flags. */
export async function readTicketList(tx: Database, principal: Principal, query: TicketListQuery): Promise<TicketListResponse> {
  const plan = listPlan(principal, query)
  // Row-level security hides how many rows its policy lets through, so PostgreSQL guesses a
  // handful and, for a deep page, ORs bitmaps over everything visible and sorts it (70 ms for an
  // agent at a million tickets) rather than walking the sort's index from the cursor (6 ms). A
  // plain list never needs a bitmap (search does: GIN has no other scan). Its statement is planned
  // once per connection, without its parameters (its limits are in the text): the plan is the
  // same walk for every principal and cursor, and PostgreSQL, finding that plan's estimate dearer
  // than one made for the values, planned it again on every request (1.4 ms of an agent's 4).
  // Both statements are sent at once (postgres.js pipelines them on the transaction's connection,
  // in order): one round trip less on every list.
  const [, result] = await Promise.all([
    plan.walksIndexes ? tx.execute(sql`select set_config('enable_bitmapscan', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)`) : undefined,
    // postgres.js answers an array of rows, the embedded PGlite `{ rows }`.
    tx.execute<KeyRow>(plan.keys) as unknown as Promise<KeyRow[] | { rows: KeyRow[] }>,
  ])
  const page = pageOfKeys(plan, Array.isArray(result) ? result : result.rows, query.limit)
  const rows = page.ids.length ? await selectTickets(tx, principal).where(and(inArray(tickets.id, page.ids), ticketVisibility(principal))) : []
  const byId = new Map(rows.map(r => [r.id, r]))
  return {
    data: page.ids.flatMap(id => byId.get(id) ?? []).map(toListItem),
    meta: { nextCursor: page.nextCursor, limit: query.limit, total: page.total, totalCapped: page.totalCapped, jump: page.jump },
  }
}
