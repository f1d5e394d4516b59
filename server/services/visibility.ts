import { eq, inArray, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { hasRole, isStaff } from '../../shared/utils/roles'
import { useDb } from '../db/client'
import type { Database } from '../db/client'
import { tickets } from '../db/schema'
import type { VisibilityMode } from '../db/schema'
import { useConfig } from '../utils/config'
import type { Principal } from '../utils/principal'

/**
 * The one rule for which tickets a caller may see (the design's table), as a mode:
 * - all: every ticket (admins; agents and managers when visibility is off)
 * - staff: own + assigned to them + their organisations' tickets
 * - assigned: own + assigned to them (agents restricted by the assigned-only group)
 * - org: own + their organisations' tickets (requesters in the org-scope group)
 * - own: only the tickets they requested — and the fallback, so nothing fails open.
 */
export function visibilityMode(principal: Principal): VisibilityMode {
  if (hasRole(principal.roles, 'admin')) return 'all'
  const { VISIBILITY_ENABLED } = useConfig()
  if (isStaff(principal.roles)) {
    if (!VISIBILITY_ENABLED) return 'all'
    return principal.roles.includes('visibility-assigned') ? 'assigned' : 'staff'
  }
  return VISIBILITY_ENABLED && principal.roles.includes('visibility-org') ? 'org' : 'own'
}

/** The same rule as an SQL condition on `tickets`; every path that touches a ticket filters with it. */
export function ticketVisibility(principal: Principal): SQL {
  const mode = visibilityMode(principal)
  if (mode === 'all') return sql`true`
  const own = eq(tickets.requesterId, principal.userId)
  const assigned = eq(tickets.assigneeId, principal.userId)
  const inOrgs = principal.orgIds.length ? inArray(tickets.orgId, principal.orgIds) : undefined
  const grants = { own: [own], assigned: [own, assigned], org: [own, inOrgs], staff: [own, assigned, inOrgs] }[mode]
  return or(...grants)!
}

/** Requesters never see internal notes. */
export function canSeeInternalNotes(principal: Principal): boolean {
  return isStaff(principal.roles)
}

/**
 * Runs ticket work in a transaction that tells PostgreSQL who is asking. Row-level security
 * policies (server/db/schema.ts) enforce the same rule again, so a query that forgot the
 * condition above still returns nothing the caller may not see.
 */
export async function asPrincipal<T>(principal: Principal, work: (tx: Database) => Promise<T>): Promise<T> {
  return withContext(visibilityMode(principal), principal.userId, principal.orgIds, canSeeInternalNotes(principal), work)
}

/** For the system's own jobs (clean-ups, exports by admins): every ticket. */
export function asSystem<T>(work: (tx: Database) => Promise<T>): Promise<T> {
  return withContext('all', '', [], true, work)
}

async function withContext<T>(mode: VisibilityMode, userId: string, orgIds: string[], staff: boolean, work: (tx: Database) => Promise<T>): Promise<T> {
  const db = await useDb()
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.mode', ${mode}, true), set_config('app.user_id', ${userId}, true),
      set_config('app.org_ids', ${orgIds.join(',')}, true), set_config('app.staff', ${staff ? 'on' : 'off'}, true)`)
    return work(tx)
  })
}

/** What the rule needs to know about one ticket when deciding without a query (live events). */
export interface TicketFacts { requesterId: string, assigneeId: string | null, orgId: string | null }

/**
 * `ticketVisibility` evaluated in code for one ticket, for decisions made per event and per
 * subscriber where a query each would be too slow. The live tests check it against the SQL.
 */
export function ticketVisibleTo(principal: Principal, ticket: TicketFacts): boolean {
  const mode = visibilityMode(principal)
  if (mode === 'all') return true
  const own = ticket.requesterId === principal.userId
  const assigned = ticket.assigneeId === principal.userId
  const inOrgs = ticket.orgId !== null && principal.orgIds.includes(ticket.orgId)
  return { own: own, assigned: own || assigned, org: own || inOrgs, staff: own || assigned || inOrgs }[mode]
}
