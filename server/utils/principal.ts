import type { H3Event } from 'h3'
import { createError, getCookie, getRequestHeader, setResponseHeader } from 'h3'
import type { Role } from '../../shared/types/user'
import { hasRole, primaryRole } from '../../shared/utils/roles'
import { currentOidcSession } from '../services/oidc-sessions'
import { tokenIdentity } from '../services/tokens'
import { findUserWithOrgs } from '../services/users'
import type { UserWithOrgs } from '../services/users'
import { bearerTokenOf, verifyBearerToken } from './bearer'
import { bearerTokensEnabled, useConfig } from './config'
import { LOCAL_SESSION_COOKIE, verifyLocalSession } from './local-session'

/** Who is calling. Every handler asks `getPrincipal` / `requirePrincipal`; nothing else reads credentials. */
export interface Principal {
  userId: string
  subject: string | null
  email: string
  name: string
  /** The primary role first, then visibility flags. */
  roles: string[]
  /** Organisation slugs and ids, in the same order. */
  orgs: string[]
  orgIds: string[]
  /** What a token may do on top of the roles; sessions carry every scope. */
  scopes: string[]
  /** `mail`: a message its sender wrote to the helpdesk (inbound mail acts for them). */
  via: 'bearer' | 'oidc' | 'local' | 'mail'
}

export const allScopes = ['tickets:read', 'tickets:write', 'admin'] as const
export type Scope = (typeof allScopes)[number]

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
    scopes: token?.scopes ?? [...allScopes],
    via,
  }
}

type Resolver = (event: H3Event) => Promise<Principal | null>

/**
 * `Authorization: Bearer <JWT>` from the IdP (see docs/api-tokens.md). A token that is present
 * but not valid is a 401 even when a session cookie comes along. The principal is remembered
 * with the verified token for a short while, so the gateway's hot path needs no database either.
 */
const fromBearerToken: Resolver = async (event) => {
  const token = bearerTokenOf(getRequestHeader(event, 'authorization'))
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

/** AUTH_MODE=local: the `hd_auth` cookie, honoured while the user is active and not revoked. */
const fromLocalSession: Resolver = async (event) => {
  const token = getCookie(event, LOCAL_SESSION_COOKIE)
  if (!token) return null
  const session = await verifyLocalSession(token)
  if (!session) return null
  const user = await findUserWithOrgs(session.userId)
  if (!user?.active) return null
  if (user.sessionsValidAfter && session.issuedAt < user.sessionsValidAfter) return null
  return toPrincipal(user, 'local')
}

// In the design's order: bearer token, OIDC session, local session.
const resolvers: Resolver[] = [fromBearerToken, fromOidcSession, fromLocalSession]

async function resolve(event: H3Event): Promise<Principal | null> {
  for (const resolver of resolvers) {
    const principal = await resolver(event)
    if (principal) return principal
  }
  return null
}

/** The caller, or null when anonymous. Resolved once per request. */
export function getPrincipal(event: H3Event): Promise<Principal | null> {
  event.context.principal ??= resolve(event).then((principal) => {
    event.context.userId = principal?.userId
    return principal
  })
  return event.context.principal
}

/** What a request needs from a token when the handler does not say: admin area, reads, or changes. */
function scopeFor(event: H3Event): Scope {
  if (event.path.startsWith('/api/admin/')) return 'admin'
  return event.method === 'GET' || event.method === 'HEAD' ? 'tickets:read' : 'tickets:write'
}

/**
 * The caller, or 401. `role` is the least role needed (403 below it); `scope` what a token must
 * grant on top (403 without it), inferred from the request unless given; `null` needs none.
 */
export async function requirePrincipal(event: H3Event, options: { role?: Role, scope?: Scope | null } = {}): Promise<Principal> {
  const principal = await getPrincipal(event)
  if (!principal) throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Sign in to continue.' })
  const scope = options.scope === undefined ? scopeFor(event) : options.scope
  if (scope && !principal.scopes.includes(scope)) {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: `The access token lacks the ${scope} scope.` })
  }
  if (options.role && !hasRole(principal.roles, options.role)) {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'You are not allowed to do this.' })
  }
  return principal
}

declare module 'h3' {
  interface H3EventContext {
    principal?: Promise<Principal | null>
    /** The resolved caller's id, for the request log. */
    userId?: string
    requestId?: string
  }
}
