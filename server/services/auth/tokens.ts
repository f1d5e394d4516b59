import { apiScopes } from '#shared/types/user'
import type { TokenClaims } from './bearer'
import { authFailures } from '#server/utils/metrics'
import type { UserWithOrgs } from '#server/services/users'
import { findUserWithOrgs, userForClient, userForSubject } from '#server/services/users'

export interface TokenIdentity {
  user: UserWithOrgs
  roles: string[]
  scopes: string[]
}

/**
 * Machine tokens (client_credentials) name no user: no `sub`. A token with a `sub` acts for the
 * user with that OIDC subject, even when it happens to equal the client id (a user's name).
 */
export function isMachineToken(claims: TokenClaims): boolean {
  return !!claims.clientId && !claims.subject
}

/**
 * Who a verified token acts as (docs/api-tokens.md):
 * - a user's token: that user with their roles, limited to the token's scopes;
 * - a machine token: its client's service account, admin with the `admin` scope and otherwise a
 *   requester that sees only the tickets it opened itself.
 * Null (counted) when the account is deactivated or its sessions were revoked after issuance.
 */
export async function tokenIdentity(claims: TokenClaims): Promise<TokenIdentity | null> {
  const scopes = apiScopes.filter(s => claims.scopes.includes(s))
  const machine = isMachineToken(claims)
  const row = machine
    ? await userForClient(claims.clientId!)
    : claims.subject ? await userForSubject(claims.subject, claims) : null
  const user = row && await findUserWithOrgs(row.id)
  // A token that does not say when it was issued counts as issued before any revocation.
  const revoked = user?.sessionsValidAfter && (claims.issuedAt === null || claims.issuedAt * 1000 < user.sessionsValidAfter.getTime())
  if (!user?.active || revoked) {
    authFailures.inc({ reason: 'inactive_user' })
    return null
  }
  const roles = machine ? (scopes.includes('admin') ? ['admin'] : []) : user.roles
  return { user, roles, scopes }
}
