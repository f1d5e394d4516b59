import { and, asc, eq, sql } from 'drizzle-orm'
import { hasRole } from '../../shared/utils/roles'
import type { Database } from '../db/client'
import { tickets, userOrgs, users } from '../db/schema'
import type { Principal } from '../utils/principal'
import { ticketKey, ticketNotFound } from './tickets'
import type { TicketFacts } from './visibility'
import { asPrincipal, ticketVisibility, canSeeTicket } from './visibility'

export interface Assignee { id: string, name: string, email: string }

/** Active staff with what the visibility rule needs about them. */
async function activeStaff(db: Database, userId?: string) {
  return db.select({
    id: users.id, name: users.name, email: users.email, roles: users.roles,
    orgIds: sql<string[]>`coalesce(array_agg(${userOrgs.orgId}) filter (where ${userOrgs.orgId} is not null), '{}')`,
  }).from(users).leftJoin(userOrgs, eq(userOrgs.userId, users.id))
    .where(and(eq(users.active, true), sql`${users.roles} && array['admin','manager','agent']::text[]`, userId ? eq(users.id, userId) : undefined))
    .groupBy(users.id).orderBy(asc(users.name))
}

/** Whether this colleague could see the ticket, by the one rule, as if they were asking. */
function colleagueSees(colleague: { id: string, roles: string[], orgIds: string[] }, ticket: TicketFacts): boolean {
  const principal = { userId: colleague.id, roles: colleague.roles, orgIds: colleague.orgIds } as Principal
  return canSeeTicket(principal, ticket)
}

/** Whom the caller may assign this ticket to: managers anyone on the staff, agents the colleagues who can see it. */
export async function assigneesFor(principal: Principal, id: string): Promise<Assignee[]> {
  return asPrincipal(principal, async (tx) => {
    const [ticket] = await tx.select({ requesterId: tickets.requesterId, assigneeId: tickets.assigneeId, orgId: tickets.orgId })
      .from(tickets).where(and(ticketKey(id), ticketVisibility(principal)))
    if (!ticket) throw ticketNotFound()
    const staff = await activeStaff(tx)
    const managing = hasRole(principal.roles, 'manager')
    return staff.filter(s => managing || colleagueSees(s, ticket)).map(({ id, name, email }) => ({ id, name, email }))
  })
}

/** For an agent handing a ticket over: the colleague must be active staff who can see it. */
export async function canTakeOver(db: Database, userId: string, ticket: TicketFacts): Promise<boolean> {
  const [colleague] = await activeStaff(db, userId)
  return !!colleague && colleagueSees(colleague, ticket)
}
