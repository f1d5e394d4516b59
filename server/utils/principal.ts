import type { H3Event } from 'h3'
import { createError } from 'h3'
import type { ApiScope } from '#shared/types/user'
import type { Role } from '#shared/utils/roles'
import { hasRole } from '#shared/utils/roles'
import { clientIp } from './client-ip'

/**
 * Who is calling. Every handler asks `getPrincipal` / `requirePrincipal`; nothing else reads
 * credentials. How a request is resolved lives in server/services/auth/ (registered at start-up
 * by server/plugins/0.startup.ts), so this file stays the one public face of sign-in.
 */
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

export type Scope = ApiScope

/** Who did something, for the audit log: the user (if any) and the trusted-proxy client address. */
export interface Actor {
  actorId: string | null
  ip: string | null
}

export function actorOf(event: H3Event, who?: { userId: string } | string | null): Actor {
  const actorId = typeof who === 'string' ? who : who?.userId ?? null
  return { actorId, ip: clientIp(event) || null }
}

export type PrincipalResolver = (event: H3Event) => Promise<Principal | null>

let resolver: PrincipalResolver | undefined

/** Set once at start-up with server/services/auth/resolve.ts. */
export function usePrincipalResolver(resolve: PrincipalResolver): void {
  resolver = resolve
}

/** The caller, or null when anonymous. Resolved once per request. */
export function getPrincipal(event: H3Event): Promise<Principal | null> {
  if (!resolver) throw new Error('the principal resolver is not registered (server/plugins/0.startup.ts)')
  event.context.principal ??= resolver(event).then((principal) => {
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
