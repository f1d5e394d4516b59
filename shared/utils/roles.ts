import type { Role } from '../types/user'
import { staffRoles } from '../types/user'

const rank: Record<Role, number> = { requester: 0, agent: 1, manager: 2, admin: 3 }

/** The strongest role in a role list; no staff role means requester. */
export function primaryRole(roles: readonly string[]): Role {
  return staffRoles.find(r => roles.includes(r)) ?? 'requester'
}

/** Whether someone with these roles has at least the given role. */
export function hasRole(roles: readonly string[], atLeast: Role): boolean {
  return rank[primaryRole(roles)] >= rank[atLeast]
}

export function isStaff(roles: readonly string[]): boolean {
  return hasRole(roles, 'agent')
}
