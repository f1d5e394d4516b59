import { sql } from 'drizzle-orm'
import type { AnyColumn, SQL } from 'drizzle-orm'
import type { StaffRole, VisibilityFlag } from '#shared/utils/roles'

/** Whether a `roles` text[] column holds any of these roles or flags (the lists come from shared/types/user.ts). */
export function rolesInclude(column: AnyColumn, roles: readonly (StaffRole | VisibilityFlag)[]): SQL {
  return sql`${column} && array[${sql.join(roles.map(r => sql`${r}`), sql`, `)}]::text[]`
}
