import type { H3Event } from 'h3'
import { getCookie, useSession } from 'h3'
import * as modulePresets from 'nuxt-oidc-auth/runtime/providers/index.js'
import { decryptToken as moduleDecrypt, encryptToken as moduleEncrypt } from 'nuxt-oidc-auth/runtime/server/utils/security.js'
import type { EncryptedToken } from 'nuxt-oidc-auth/runtime/server/utils/security.js'
import { secureCookies, useConfig } from '#server/utils/config'

/**
 * Everything the app knows about nuxt-oidc-auth's internals, in one file; test/unit/oidc-adapter.test.ts
 * pins each of them against the installed module, so an upgrade that moves one fails in CI.
 * Checked against 1.0.0-beta.11 (docs/oidc.md): it still reads its secrets from process.env,
 * still has no discovery, keeps the same cookies and token encryption, and fixes the missing
 * `return` after a state mismatch that 0.18 has (the check below stays as a guard either way).
 */

export type { EncryptedToken }

/** The module's sealed session cookie (session id, sign-in time, provider). */
export const MODULE_SESSION_COOKIE = 'nuxt-oidc-auth'
/** The module's login-flow cookie: state and PKCE verifier between login and callback. */
export const MODULE_FLOW_COOKIE = 'oidc'

/** The module's routes the app lets through; its refresh and session endpoints and its GET logout are not. */
export const moduleRoutes = new Set(['/auth/oidc/login', '/auth/oidc/callback'])

export interface ModuleSessionCookie {
  loggedInAt?: number
  provider?: string
}

/**
 * The module merges its generic provider's preset under the runtime config (frozen at start) and
 * has no discovery: the endpoints found at run time are written into the preset instead.
 */
export function configureModuleProvider(values: { clientId: string, clientSecret: string, redirectUri: string, authorizationUrl: string, tokenUrl: string, openIdConfiguration: object }): void {
  Object.assign(modulePresets.oidc, values)
}

/**
 * Settings the module reads from the request's runtime config: the session cookie's lifetime and
 * Secure flag follow SESSION_MAX_AGE and PUBLIC_URL instead of the build's defaults.
 */
export function applyModuleRuntimeConfig(event: H3Event): void {
  const config = useConfig()
  const session = (useRuntimeConfig(event) as unknown as { oidc: { session: { maxAge: number, cookie: Record<string, unknown> } } }).oidc.session
  session.maxAge = config.SESSION_MAX_AGE
  session.cookie = { ...session.cookie, secure: secureCookies(config) }
}

const tokenKey = () => useConfig().NUXT_OIDC_TOKEN_KEY!

/** Tokens in the session store are encrypted the module's way (AES-GCM with NUXT_OIDC_TOKEN_KEY). */
export const encryptToken = (token: string) => moduleEncrypt(token, tokenKey())
export const decryptToken = (token: EncryptedToken) => moduleDecrypt(token, tokenKey())

/** The module's sealed session of this request (its id keys the session store). */
export function moduleSession(event: H3Event) {
  const config = useConfig()
  return useSession<ModuleSessionCookie>(event, {
    name: MODULE_SESSION_COOKIE,
    password: config.NUXT_OIDC_SESSION_SECRET!,
    maxAge: config.SESSION_MAX_AGE,
    cookie: { httpOnly: true, sameSite: 'lax', secure: secureCookies(config), path: '/' },
  })
}

/**
 * The `state` the module remembered when this browser's sign-in began, or null when there is
 * no sign-in in flight (no flow cookie, or one this server did not seal).
 */
export async function pendingSignInState(event: H3Event): Promise<string | null> {
  if (!getCookie(event, MODULE_FLOW_COOKIE)) return null
  const flow = await useSession<{ state?: string }>(event, { name: MODULE_FLOW_COOKIE, password: useConfig().NUXT_OIDC_AUTH_SESSION_SECRET!, maxAge: 300 })
  return typeof flow.data.state === 'string' ? flow.data.state : null
}
