import { and, asc, count, eq, gte, inArray, isNotNull, sql } from 'drizzle-orm'
import { ticketPriorities, ticketStatuses } from '../../shared/types/ticket'
import type { TicketPriority, TicketStatus } from '../../shared/types/ticket'
import { orgs, tickets, userOrgs } from '../db/schema'
import type { Principal } from '../utils/principal'
import { asPrincipal, ticketVisibility } from './visibility'

export interface Overview {
  byStatus: Record<TicketStatus, number>
  openByPriority: Record<TicketPriority, number>
  perDay: { day: string, created: number, resolved: number }[]
  medianFirstResponseSeconds: number | null
}

const activeStatuses: TicketStatus[] = ['new', 'open', 'pending']

/** The overview dashboard, computed in SQL over the tickets the caller may see. */
export async function overview(principal: Principal, days = 30): Promise<Overview> {
  const visible = ticketVisibility(principal)
  return asPrincipal(principal, async (tx) => {
    const statusRows = await tx.select({ status: tickets.status, n: count() }).from(tickets).where(visible).groupBy(tickets.status)
    const priorityRows = await tx.select({ priority: tickets.priority, n: count() }).from(tickets)
      .where(and(visible, inArray(tickets.status, activeStatuses))).groupBy(tickets.priority)
    const since = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() - (days - 1)))
    const perDayOf = (column: typeof tickets.createdAt | typeof tickets.resolvedAt) => {
      const day = sql<string>`to_char(${column} at time zone 'utc', 'YYYY-MM-DD')`
      return tx.select({ day, n: count() }).from(tickets).where(and(visible, gte(column, since))).groupBy(day)
    }
    const [created, resolved] = await Promise.all([perDayOf(tickets.createdAt), perDayOf(tickets.resolvedAt)])
    const perDay = Array.from({ length: days }, (_, i) => new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10))
      .map(day => ({ day, created: created.find(r => r.day === day)?.n ?? 0, resolved: resolved.find(r => r.day === day)?.n ?? 0 }))
    const [median] = await tx.select({
      seconds: sql<number | null>`percentile_cont(0.5) within group (order by extract(epoch from ${tickets.firstResponseAt} - ${tickets.createdAt}))`,
    }).from(tickets).where(and(visible, isNotNull(tickets.firstResponseAt), sql`${tickets.createdAt} >= now() - make_interval(days => ${days})`))
    return {
      byStatus: Object.fromEntries(ticketStatuses.map(s => [s, statusRows.find(r => r.status === s)?.n ?? 0])) as Overview['byStatus'],
      openByPriority: Object.fromEntries(ticketPriorities.map(p => [p, priorityRows.find(r => r.priority === p)?.n ?? 0])) as Overview['openByPriority'],
      perDay,
      medianFirstResponseSeconds: median?.seconds == null ? null : Math.round(Number(median.seconds)),
    }
  })
}

/** Organisations with their member and (visible) ticket counts. */
export async function listOrgs(principal: Principal) {
  const visible = ticketVisibility(principal)
  return asPrincipal(principal, tx => tx.select({
    slug: orgs.slug,
    name: orgs.name,
    members: sql<number>`(select count(*) from ${userOrgs} where ${userOrgs.orgId} = ${orgs.id})::int`,
    openTickets: sql<number>`(count(${tickets.id}) filter (where ${inArray(tickets.status, activeStatuses)}))::int`,
    tickets: sql<number>`count(${tickets.id})::int`,
  }).from(orgs).leftJoin(tickets, and(eq(tickets.orgId, orgs.id), visible)).groupBy(orgs.id).orderBy(asc(orgs.slug)))
}
