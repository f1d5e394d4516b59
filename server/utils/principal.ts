import type { H3Event } from 'h3'
import { createError, getCookie } from 'h3'
import type { Role } from '../../shared/types/user'
import { hasRole, primaryRole } from '../../shared/utils/roles'
import { currentOidcSession } from '../services/oidc-sessions'
import { findUserWithOrgs } from '../services/users'
import type { UserWithOrgs } from '../services/users'
import { useConfig } from './config'
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
  via: 'bearer' | 'oidc' | 'local'
}

const allScopes = ['tickets:read', 'tickets:write', 'admin']

function toPrincipal(user: UserWithOrgs, via: Principal['via']): Principal {
  const role = primaryRole(user.roles)
  return {
    userId: user.id,
    subject: user.subject,
    email: user.email,
    name: user.name,
    roles: [role, ...user.roles.filter(r => r !== role)],
    orgs: user.orgs.map(o => o.slug),
    orgIds: user.orgs.map(o => o.id),
    scopes: allScopes,
    via,
  }
}

type Resolver = (event: H3Event) => Promise<Principal | null>

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
const resolvers: Resolver[] = [fromOidcSession, fromLocalSession]

async function resolve(event: H3Event): Promise<Principal | null> {
  for (const resolver of resolvers) {
    const principal = await resolver(event)
    if (principal) return principal
  }
  return null
}

/** The caller, or null when anonymous. Resolved once per request. */
export function getPrincipal(event: H3Event): Promise<Principal | null> {
  event.context.principal ??= resolve(event)
  return event.context.principal
}

export async function requirePrincipal(event: H3Event, options: { role?: Role } = {}): Promise<Principal> {
  const principal = await getPrincipal(event)
  if (!principal) throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Sign in to continue.' })
  if (options.role && !hasRole(principal.roles, options.role)) {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'You are not allowed to do this.' })
  }
  return principal
}

declare module 'h3' {
  interface H3EventContext {
    principal?: Promise<Principal | null>
    requestId?: string
  }
}
