import { and, eq, inArray, isNotNull, isNull, ne, notInArray, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type { TicketEventType } from '#shared/utils/tickets'
import { staffRoles, hasRole, isStaff } from '#shared/utils/roles'
import { useDb } from '#server/db/client'
import type { Database } from '#server/db/client'
import { ticketEvents, tickets, userOrgs, users } from '#server/db/schema'
import type { VisibilityMode } from '#server/db/schema'
import { useConfig } from '#server/utils/config'
import type { Principal } from '#server/utils/principal'
import { rolesInclude } from '#server/utils/role-sql'

/** What the rule needs to know about a caller: a principal, or a user row seen as one (for mail and live events). */
export type Viewer = Pick<Principal, 'userId' | 'roles' | 'orgIds'>

/**
 * The one rule for which tickets a caller may see (ARCHITECTURE.md, "Who sees which ticket"), as a mode:
 * - all: every ticket (admins; agents and managers when visibility is off)
 * - staff: own + assigned to them + their organisations' tickets + the general queue
 *   (tickets whose requester has no organisation, so no ticket is left without an agent)
 * - assigned: own + assigned to them (agents restricted by the assigned-only group)
 * - org: own + their organisations' tickets (requesters in the org-scope group)
 * - own: only the tickets they requested — and the fallback, so nothing fails open.
 */
export function visibilityMode(viewer: Pick<Viewer, 'roles'>): VisibilityMode {
  if (hasRole(viewer.roles, 'admin')) return 'all'
  const { VISIBILITY_ENABLED } = useConfig()
  if (isStaff(viewer.roles)) {
    if (!VISIBILITY_ENABLED) return 'all'
    return viewer.roles.includes('visibility-assigned') ? 'assigned' : 'staff'
  }
  return VISIBILITY_ENABLED && viewer.roles.includes('visibility-org') ? 'org' : 'own'
}

/** The same rule as an SQL condition on `tickets`; every path that touches a ticket filters with it. */
export function ticketVisibility(viewer: Viewer): SQL {
  const mode = visibilityMode(viewer)
  if (mode === 'all') return sql`true`
  const own = eq(tickets.requesterId, viewer.userId)
  const assigned = eq(tickets.assigneeId, viewer.userId)
  const inOrgs = viewer.orgIds.length ? inArray(tickets.orgId, viewer.orgIds) : undefined
  const generalQueue = isNull(tickets.orgId)
  const grants = { own: [own], assigned: [own, assigned], org: [own, inOrgs], staff: [own, assigned, inOrgs, generalQueue] }[mode]
  return or(...grants)!
}

/**
 * The same rule as disjoint parts whose union is `ticketVisibility`, each one range of one index
 * (organisation, requester or assignee; no OR, so no part needs a bitmap). Counting visible
 * tickets part by part, each capped, walks a few index ranges instead of OR-ing bitmaps over
 * everything visible (the queue's total at a million tickets, docs/search.md).
 */
export function ticketVisibilityParts(viewer: Viewer): SQL[] {
  const mode = visibilityMode(viewer)
  if (mode === 'all') return [sql`true`]
  const own = eq(tickets.requesterId, viewer.userId)
  const assigned = eq(tickets.assigneeId, viewer.userId)
  const inOrgs = viewer.orgIds.length ? inArray(tickets.orgId, viewer.orgIds) : undefined
  const outsideOrgs = viewer.orgIds.length ? notInArray(tickets.orgId, viewer.orgIds) : undefined
  const assignedNotOwn = and(assigned, ne(tickets.requesterId, viewer.userId))!
  switch (mode) {
    case 'own': return [own]
    case 'assigned': return [own, assignedNotOwn]
    case 'org': return [...(inOrgs ? [inOrgs] : []), and(own, or(isNull(tickets.orgId), outsideOrgs))!]
    case 'staff': {
      const elsewhere = and(isNotNull(tickets.orgId), outsideOrgs)
      return [isNull(tickets.orgId), ...(inOrgs ? [inOrgs] : []), and(own, elsewhere)!, and(assignedNotOwn, elsewhere)!]
    }
  }
}

/** The same rule for one ticket already in hand (who receives its live events and mails). */
export function canSeeTicket(viewer: Viewer, ticket: TicketFacts): boolean {
  const mode = visibilityMode(viewer)
  const own = ticket.requesterId === viewer.userId
  const assigned = ticket.assigneeId === viewer.userId
  const inOrgs = ticket.orgId !== null && viewer.orgIds.includes(ticket.orgId)
  switch (mode) {
    case 'all': return true
    case 'staff': return own || assigned || inOrgs || ticket.orgId === null
    case 'assigned': return own || assigned
    case 'org': return own || inOrgs
    case 'own': return own
  }
}

/**
 * The same rule in SQL from the other side: the condition on `users` under which that user sees
 * the ticket row in scope (`tickets`). For "who can see this ticket" (notifications, the overview's
 * warning about tickets no agent can see). Keep in step with `visibilityMode` above.
 */
export function userSeesTicket(): SQL {
  const member = sql`exists (select 1 from ${userOrgs} where ${userOrgs.userId} = ${users.id} and ${userOrgs.orgId} = ${tickets.orgId})`
  const own = eq(tickets.requesterId, users.id)
  if (!useConfig().VISIBILITY_ENABLED) return or(rolesInclude(users.roles, staffRoles), own)!
  const assignedOnly = rolesInclude(users.roles, ['visibility-assigned'])
  return or(
    rolesInclude(users.roles, ['admin']),
    own,
    and(rolesInclude(users.roles, staffRoles.filter(r => r !== 'admin')), or(
      eq(tickets.assigneeId, users.id),
      and(sql`not ${assignedOnly}`, or(isNull(tickets.orgId), member)),
    )),
    and(sql`not ${rolesInclude(users.roles, staffRoles)}`, rolesInclude(users.roles, ['visibility-org']), member),
  )!
}

/** Requesters never see internal notes. */
export function canSeeInternalNotes(viewer: Pick<Viewer, 'roles'>): boolean {
  return isStaff(viewer.roles)
}

/**
 * What a requester sees of a ticket's history, per event type: what happened to their request
 * (opened, status, title, who handles it), not how staff organise the work (priority, tags).
 * A new event type must be decided here (the record is exhaustive); staff see every event.
 */
export const historyShownToRequesters: Record<TicketEventType, boolean> = {
  created: true,
  status: true,
  title: true,
  assignee: true,
  priority: false,
  tags: false,
}

/** The history condition for a caller: staff see every entry, requesters the types decided above. */
export function eventVisibility(viewer: Pick<Viewer, 'roles'>): SQL | undefined {
  if (canSeeInternalNotes(viewer)) return undefined
  return inArray(ticketEvents.type, (Object.keys(historyShownToRequesters) as TicketEventType[]).filter(t => historyShownToRequesters[t]))
}

/**
 * Runs ticket work in a transaction that tells PostgreSQL who is asking. Row-level security
 * policies (server/db/schema.ts) enforce the same rule again, so a query that forgot the
 * condition above still returns nothing the caller may not see.
 */
export async function asPrincipal<T>(principal: Viewer, work: (tx: Database) => Promise<T>): Promise<T> {
  return withContext(principalContext(principal), work)
}

/** For the system's own jobs (clean-ups, exports by admins): every ticket. */
export function asSystem<T>(work: (tx: Database) => Promise<T>): Promise<T> {
  return withContext(context('all', '', [], true), work)
}

/** The statement that tells the transaction who is asking (what `asPrincipal` runs first). */
export function principalContext(principal: Viewer): SQL {
  return context(visibilityMode(principal), principal.userId, principal.orgIds, canSeeInternalNotes(principal))
}

function context(mode: VisibilityMode, userId: string, orgIds: string[], staff: boolean): SQL {
  return sql`select set_config('app.mode', ${mode}, true), set_config('app.user_id', ${userId}, true),
    set_config('app.org_ids', ${orgIds.join(',')}, true), set_config('app.staff', ${staff ? 'on' : 'off'}, true)`
}

async function withContext<T>(statement: SQL, work: (tx: Database) => Promise<T>): Promise<T> {
  const db = await useDb()
  return db.transaction(async (tx) => {
    await tx.execute(statement)
    return work(tx)
  })
}

/** What the rule needs to know about one ticket when deciding without a query (live events). */
export interface TicketFacts { requesterId: string, assigneeId: string | null, orgId: string | null }
