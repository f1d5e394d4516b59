import { eq, inArray, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { hasRole, isStaff } from '../../shared/utils/roles'
import { tickets } from '../db/schema'
import { useConfig } from '../utils/config'
import type { Principal } from '../utils/principal'

/**
 * The one rule for which tickets a caller may see, as an SQL condition on `tickets`.
 * Every path that touches a ticket (list, read, search, comments, history…) filters with it.
 * It fails closed: whatever is not granted below is not visible.
 */
export function ticketVisibility(principal: Principal): SQL {
  const own = eq(tickets.requesterId, principal.userId)
  if (hasRole(principal.roles, 'admin')) return sql`true`
  const { VISIBILITY_ENABLED } = useConfig()
  const inMyOrgs = principal.orgIds.length ? inArray(tickets.orgId, principal.orgIds) : undefined
  const assignedToMe = eq(tickets.assigneeId, principal.userId)

  if (isStaff(principal.roles)) {
    if (!VISIBILITY_ENABLED) return sql`true`
    if (principal.roles.includes('visibility-assigned')) return or(own, assignedToMe)!
    return or(own, assignedToMe, inMyOrgs)!
  }
  if (VISIBILITY_ENABLED && principal.roles.includes('visibility-org')) return or(own, inMyOrgs)!
  return own
}

/** Requesters never see internal notes. */
export function canSeeInternalNotes(principal: Principal): boolean {
  return isStaff(principal.roles)
}
