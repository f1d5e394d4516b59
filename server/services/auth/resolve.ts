import type { H3Event } from 'h3'
import { createError, getCookie, setResponseHeader } from 'h3'
import { apiScopes } from '#shared/types/user'
import { primaryRole } from '#shared/utils/roles'
import type { UserWithOrgs } from '#server/services/users'
import { bearerTokensEnabled, useConfig } from '#server/utils/config'
import type { Principal } from '#server/utils/principal'
import { bearerTokenOf, rememberedToken, verifyBearerToken } from './bearer'
import { LOCAL_SESSION_COOKIE, localSessionUser } from './local-session'
import { currentOidcSession } from './oidc-sessions'
import { tokenIdentity } from './tokens'

/** A user as a principal: with a session's rights, or with a token's roles and scopes. */
export function toPrincipal(user: UserWithOrgs, via: Principal['via'], token?: { roles: string[], scopes: string[] }): Principal {
  const roles = token?.roles ?? user.roles
  const role = primaryRole(roles)
  return {
    userId: user.id,
    subject: user.subject,
    email: user.email,
    name: user.name,
    roles: [role, ...roles.filter(r => r !== role)],
    orgs: user.orgs.map(o => o.slug),
    orgIds: user.orgs.map(o => o.id),
    scopes: token?.scopes ?? [...apiScopes],
    via,
  }
}

type Resolver = (event: H3Event) => Promise<Principal | null>

// Node keeps one Authorization header (it drops repeats); h3's getRequestHeader copied every header first.
const authorizationOf = (event: H3Event) => event.node.req.headers.authorization

/**
 * `Authorization: Bearer <JWT>` from the IdP (see docs/api-tokens.md). A token that is present
 * but not valid is a 401 even when a session cookie comes along. The principal is remembered
 * with the verified token for a short while, so the gateway's hot path needs no database either.
 */
const fromBearerToken: Resolver = async (event) => {
  const token = bearerTokenOf(authorizationOf(event))
  if (!token || !bearerTokensEnabled(useConfig())) return null
  const verified = await verifyBearerToken(token)
  const now = Date.now()
  if (verified && !(verified.memo && verified.memo.until > now)) {
    const identity = await tokenIdentity(verified.claims)
    const value = identity && toPrincipal(identity.user, 'bearer', identity)
    verified.memo = { value, until: Math.min(verified.claims.expiresAt * 1000, now + principalMemoMs) }
  }
  const principal = verified?.memo?.value as Principal | null | undefined
  if (principal) return principal
  setResponseHeader(event, 'WWW-Authenticate', 'Bearer error="invalid_token"')
  throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'The access token is not valid.' })
}
const principalMemoMs = 30_000

/** AUTH_MODE=oidc: nuxt-oidc-auth's session, renewed on the server when its access token expires. */
const fromOidcSession: Resolver = async (event) => {
  if (useConfig().AUTH_MODE !== 'oidc') return null
  const session = await currentOidcSession(event)
  if (!session?.user.active) return null
  if (session.user.sessionsValidAfter && session.signedInAt < session.user.sessionsValidAfter) return null
  return toPrincipal(session.user, 'oidc')
}

/**
 * AUTH_MODE=local: the `hd_auth` cookie, honoured while its session exists on the server and the
 * user is active and not revoked. In AUTH_MODE=oidc it means nothing.
 */
const fromLocalSession: Resolver = async (event) => {
  if (useConfig().AUTH_MODE !== 'local') return null
  const token = getCookie(event, LOCAL_SESSION_COOKIE)
  if (!token) return null
  const session = await localSessionUser(token)
  if (!session?.user.active) return null
  const { user, issuedAt } = session
  if (user.sessionsValidAfter && issuedAt < user.sessionsValidAfter) return null
  return toPrincipal(user, 'local')
}

// In the design's order: bearer token, OIDC session, local session.
const resolvers: Resolver[] = [fromBearerToken, fromOidcSession, fromLocalSession]

/**
 * A bearer token verified and resolved within the last 30 s, found without waiting on anything:
 * the gateway asks about the same token on every request, and the chain of promises of the
 * resolvers below cost it 2 µs more each time. Anything else (no token, not remembered, its
 * principal dropped by a revocation) goes through `fromBearerToken`, which decides.
 */
function warmBearerPrincipal(event: H3Event): Principal | undefined {
  const token = bearerTokenOf(authorizationOf(event))
  if (!token || !bearerTokensEnabled(useConfig())) return undefined
  const memo = rememberedToken(token)?.memo
  return memo && memo.until > Date.now() ? memo.value as Principal | null ?? undefined : undefined
}

async function resolveInOrder(event: H3Event): Promise<Principal | null> {
  for (const resolver of resolvers) {
    const principal = await resolver(event)
    if (principal) return principal
  }
  return null
}

/** Who is calling, for server/utils/principal.ts (registered at start-up). */
export function resolvePrincipal(event: H3Event): Promise<Principal | null> {
  const warm = warmBearerPrincipal(event)
  return warm ? Promise.resolve(warm) : resolveInOrder(event)
}
