import type { Me } from '#shared/types/user'
import type { Principal } from '#server/utils/principal'
import type { UserWithOrgs } from '#server/services/users'
import { toAdminUser } from '#server/services/users'

/** The caller as `/api/me` and the sign-in answer describe them. */
export function toMe(who: Principal | UserWithOrgs): Me {
  if ('userId' in who) return { id: who.userId, email: who.email, name: who.name, roles: who.roles, orgs: who.orgs }
  const { id, email, name, roles, orgs } = toAdminUser(who)
  return { id, email, name, roles, orgs }
}
