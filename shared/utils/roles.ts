/** Staff roles, strongest first. A user with none of them is a requester. */
export const staffRoles = ['admin', 'manager', 'agent'] as const
export type StaffRole = (typeof staffRoles)[number]
export type Role = StaffRole | 'requester'
/** Flags that narrow or widen what a role sees (see the design's visibility table). */
export const visibilityFlags = ['visibility-org', 'visibility-assigned'] as const
export type VisibilityFlag = (typeof visibilityFlags)[number]

export const roleChoices = ['requester', ...staffRoles] as const

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
