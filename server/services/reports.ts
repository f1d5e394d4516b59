import { and, asc, count, gte, inArray, isNotNull, sql } from 'drizzle-orm'
import type { Overview } from '#shared/types/admin'
import { staffRoles, hasRole } from '#shared/utils/roles'
import { ticketPriorities, ticketStatuses } from '#shared/utils/tickets'
import type { TicketStatus } from '#shared/utils/tickets'
import type { Database } from '#server/db/client'
import { tickets, users } from '#server/db/schema'
import type { Principal } from '#server/utils/principal'
import { rolesInclude } from '#server/utils/role-sql'
import { asPrincipal, ticketVisibility, userSeesTicket } from './visibility'

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
      unseen: hasRole(principal.roles, 'admin') ? await unseenTickets(tx) : null,
    }
  })
}

/**
 * Active tickets no active agent or manager could see (only admins): on a fresh installation
 * without agents, or when a ticket's organisation has no staff and it is assigned to nobody.
 */
async function unseenTickets(tx: Database): Promise<NonNullable<Overview['unseen']>> {
  const seenByStaff = sql`exists (select 1 from ${users} where ${users.active} and ${rolesInclude(users.roles, staffRoles.filter(r => r !== 'admin'))} and ${userSeesTicket()})`
  const unseen = and(inArray(tickets.status, activeStatuses), sql`not ${seenByStaff}`)
  const [total] = await tx.select({ n: count() }).from(tickets).where(unseen)
  const examples = await tx.select({ id: tickets.id, number: tickets.number, title: tickets.title }).from(tickets).where(unseen).orderBy(asc(tickets.number)).limit(5)
  return { count: total!.n, tickets: examples }
}
