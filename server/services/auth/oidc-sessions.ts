import type { H3Event } from 'h3'
import { deleteCookie, getCookie, getQuery, readBody, sendRedirect, setCookie } from 'h3'
import { decodeJwt } from 'jose'
import type { JWTPayload } from 'jose'
import { safeRedirect } from '#shared/utils/redirect'
import { publicUrl, secureCookies, useConfig } from '#server/utils/config'
import { DependencyUnavailable } from '#server/utils/dependencies'
import { grantsFromGroups } from './groups'
import { useLogger } from '#server/utils/logger'
import { useIdentityProvider } from './oidc-provider'
import { announceUserChange } from './revocation'
import { rememberedSession } from './session-memo'
import { sessionStore, singleFlight } from './session-store'
import { audit } from '#server/services/audit'
import { actorOf } from '#server/utils/principal'
import type { EncryptedToken, ModuleSessionCookie } from './oidc-adapter'
import { decryptToken, encryptToken, MODULE_FLOW_COOKIE, MODULE_SESSION_COOKIE, moduleSession, pendingSignInState } from './oidc-adapter'
import type { UserWithOrgs } from '#server/services/users'
import { findUserWithOrgs, upsertOidcUser } from '#server/services/users'

/** Where a sign-in returns to, and when it started (the loop guard). */
const SIGN_IN_COOKIE = 'hd_signin'
const SIGN_IN_LOOP_MS = 30_000

/**
 * What nuxt-oidc-auth stores per session (encrypted tokens, access-token expiry in seconds),
 * plus the app's own: the provisioned user and the instant of sign-in (for revocation).
 */
interface SessionRecord {
  exp: number
  iat?: number
  accessToken: EncryptedToken
  refreshToken?: EncryptedToken
  idToken?: EncryptedToken
  userId?: string
  signedInAt?: number
}

export interface OidcSession {
  user: UserWithOrgs
  signedInAt: Date
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
const userIndexKey = (userId: string) => `user:${userId}`

/** The claims of the session's ID token (validated when it was received). */
async function idClaims(record: SessionRecord): Promise<JWTPayload> {
  if (!record.idToken) throw new Error('the session has no ID token')
  return decodeJwt(await decryptToken(record.idToken))
}

/** Creates or updates the user from the claims; the session remembers who it belongs to. */
async function provision(sessionId: string, record: SessionRecord, signIn: boolean): Promise<SessionRecord> {
  const config = useConfig()
  const claims = await idClaims(record)
  if (!claims.sub) throw new Error('the ID token has no subject')
  const email = (typeof claims.email === 'string' && claims.email ? claims.email : `${claims.sub}@users.invalid`).toLowerCase()
  const name = [claims.name, claims.preferred_username, email].find((v): v is string => typeof v === 'string' && v.trim() !== '')!
  const user = await upsertOidcUser({ subject: claims.sub, email, emailVerified: claims.email_verified === true, name, ...grantsFromGroups(claims[config.OIDC_GROUP_CLAIM], config.OIDC_GROUP_PREFIX, { 'visibility-org': config.OIDC_GROUP_VISIBILITY_ORG, 'visibility-assigned': config.OIDC_GROUP_VISIBILITY_ASSIGNED }) }, signIn)
  if (!record.userId) {
    const index = await sessionStore().getItem<string[]>(userIndexKey(user.id)) ?? []
    await sessionStore().setItem(userIndexKey(user.id), [...index.slice(-49), sessionId])
  }
  return { ...record, userId: user.id, signedInAt: record.signedInAt ?? Date.now() }
}

/**
 * Redeems the refresh token (rotated by Authentik: the old one is spent). Null when the IdP
 * refuses it — the session is over; DependencyUnavailable (503) when the IdP cannot be reached,
 * fails or does not answer within OIDC_TIMEOUT_MS — the session is kept and renews once it answers.
 */
async function renewTokens(record: SessionRecord): Promise<SessionRecord | null> {
  if (!record.refreshToken) return null
  const idp = await useIdentityProvider()
  const refreshToken = await decryptToken(record.refreshToken)
  let response: Response
  try {
    response = await fetch(idp.discovery.token_endpoint, {
      method: 'POST',
      headers: {
        'authorization': `Basic ${Buffer.from(`${encodeURIComponent(idp.clientId)}:${encodeURIComponent(idp.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        'accept': 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: idp.clientId }),
      signal: AbortSignal.timeout(useConfig().OIDC_TIMEOUT_MS),
    })
  }
  catch (error) {
    // Refused, reset, or no answer within OIDC_TIMEOUT_MS: the session and its refresh token stay.
    useLogger().error({ err: error }, `session renewal: the identity provider is unreachable: ${(error as Error).message}`)
    throw new DependencyUnavailable('identity provider', { cause: error })
  }
  const body = await response.json().catch(() => ({})) as Record<string, unknown>
  if (response.status >= 500) {
    useLogger().error({ status: response.status }, `session renewal: the identity provider answered ${response.status}`)
    throw new DependencyUnavailable('identity provider', { cause: new Error(`the token endpoint answered ${response.status}`) })
  }
  if (!response.ok || typeof body.access_token !== 'string') {
    useLogger().info({ error: body.error }, 'session renewal refused by the identity provider')
    return null
  }
  const previous = await idClaims(record)
  const idToken = typeof body.id_token === 'string' ? body.id_token : undefined
  if (idToken && (await idp.verify(idToken)).sub !== previous.sub) throw new Error('the renewed ID token names another subject')
  const access = decodeJwt(body.access_token)
  const expiresIn = Number(body.expires_in)
  return {
    ...record,
    exp: access.exp ?? nowSeconds() + (Number.isFinite(expiresIn) ? expiresIn : 300),
    iat: access.iat ?? nowSeconds(),
    accessToken: await encryptToken(body.access_token),
    refreshToken: typeof body.refresh_token === 'string' ? await encryptToken(body.refresh_token) : record.refreshToken,
    idToken: idToken ? await encryptToken(idToken) : record.idToken,
  }
}

/** Seconds until the session reaches SESSION_MAX_AGE after sign-in; <= 0 when it has. */
function remainingLifetime(cookie: ModuleSessionCookie): number {
  return (cookie.loggedInAt ?? 0) + useConfig().SESSION_MAX_AGE - nowSeconds()
}

/**
 * The session's record, renewed when the access token has expired and provisioned on first
 * use after sign-in. Renewal and provisioning run once per session at a time: parallel
 * requests at the moment of expiry wait for the one renewal instead of spending the
 * refresh token again. Group claims are read afresh from each new ID token, never merged.
 */
async function currentRecord(sessionId: string, ttl: number): Promise<SessionRecord | null> {
  const fresh = (r: SessionRecord | null) => !r || (r.userId && r.exp > nowSeconds())
  const record = await sessionStore().getItem<SessionRecord>(sessionId)
  if (fresh(record)) return record
  return singleFlight(sessionId, async () => {
    const latest = await sessionStore().getItem<SessionRecord>(sessionId)
    if (fresh(latest)) return latest
    const expired = latest!.exp <= nowSeconds()
    const renewed = expired ? await renewTokens(latest!) : latest!
    if (!renewed) {
      await sessionStore().removeItem(sessionId)
      return null
    }
    const next = await provision(sessionId, renewed, !latest!.userId)
    await sessionStore().setItem(sessionId, next, { ttl })
    return next
  })
}

/**
 * The signed-in user of the request's OIDC session, or null. Remembered for a few seconds
 * (session-memo.ts), until the access token expires at the latest, so the request after that
 * still renews the session.
 */
export async function currentOidcSession(event: H3Event): Promise<OidcSession | null> {
  // Checked first: h3 would otherwise hand every anonymous caller a new, empty session cookie.
  const cookie = getCookie(event, MODULE_SESSION_COOKIE)
  if (!cookie) return null
  return rememberedSession(MODULE_SESSION_COOKIE, cookie, async () => {
    const session = await moduleSession(event)
    if (!session.id || !session.data.provider) return null
    const ttl = remainingLifetime(session.data)
    if (ttl <= 0) return null
    const record = await currentRecord(session.id, ttl)
    if (!record?.userId) return null
    const user = await findUserWithOrgs(record.userId)
    return user && { value: { user, signedInAt: new Date(record.signedInAt!) }, until: Math.min(record.exp, nowSeconds() + ttl) * 1000 }
  })
}

/**
 * Before the module's /auth/oidc/login: remembers where to come back to. When the previous
 * sign-in started moments ago and never completed, the browser is bouncing between the app
 * and the IdP: it gets the signed-out page instead (its button passes `retry`).
 */
export async function beginSignIn(event: H3Event): Promise<void> {
  const query = getQuery(event)
  const pending = readSignIn(event)
  if (pending && Date.now() - pending.at < SIGN_IN_LOOP_MS && !query.retry) {
    useLogger().warn('sign-in did not complete; showing the signed-out page instead of starting another')
    deleteCookie(event, SIGN_IN_COOKIE, { path: '/' })
    await sendRedirect(event, `/signed-out?redirect=${encodeURIComponent(pending.to)}`, 302)
    return
  }
  setCookie(event, SIGN_IN_COOKIE, JSON.stringify({ to: safeRedirect(query.redirect, publicUrl(useConfig())), at: Date.now() }), {
    httpOnly: true, sameSite: 'lax', secure: secureCookies(useConfig()), path: '/', maxAge: 600,
  })
}

/**
 * Before the module's callback: a `state` that is not the one this browser's sign-in started with
 * (another browser's code, a forged link) stops here, before the code is redeemed or a session stored.
 */
export async function refuseForeignCallback(event: H3Event): Promise<void> {
  const expected = await pendingSignInState(event)
  const { state } = event.method === 'POST' ? await readBody<{ state?: unknown }>(event) ?? {} : getQuery(event)
  if (expected && state === expected) return
  deleteCookie(event, MODULE_FLOW_COOKIE, { path: '/' })
  await audit(actorOf(event), { action: 'sign_in_failed', details: { via: 'oidc', reason: 'state mismatch' } })
  const to = readSignIn(event)?.to ?? '/'
  await sendRedirect(event, `/signed-out?redirect=${encodeURIComponent(to)}`, 302)
}

/** Where the sign-in of this request comes back to: the login's `redirect`, or the one its start remembered. */
export function signInReturnPath(event: H3Event): string {
  const asked = getQuery(event).redirect
  if (asked !== undefined) return safeRedirect(asked, publicUrl(useConfig()))
  return readSignIn(event)?.to ?? '/'
}

function readSignIn(event: H3Event): { to: string, at: number } | null {
  try {
    const value = JSON.parse(getCookie(event, SIGN_IN_COOKIE) ?? 'null') as { to?: unknown, at?: unknown } | null
    return value && typeof value.at === 'number' ? { to: safeRedirect(value.to, publicUrl(useConfig())), at: value.at } : null
  }
  catch {
    return null
  }
}

/**
 * After the module's callback: provisions the user and answers where the sign-in started,
 * or the signed-out page when no session came out of it (nothing to bounce on).
 */
export async function completeSignIn(event: H3Event): Promise<string> {
  const to = readSignIn(event)?.to ?? '/'
  deleteCookie(event, SIGN_IN_COOKIE, { path: '/' })
  const session = await currentOidcSession(event)
  await audit(actorOf(event, session?.user.id), session?.user.active
    ? { action: 'sign_in', details: { via: 'oidc' } }
    : { action: 'sign_in_failed', details: { via: 'oidc', reason: session ? 'inactive user' : 'no session' } })
  return session?.user.active ? to : `/signed-out?redirect=${encodeURIComponent(to)}`
}

/**
 * Sign-out: forgets the session here (Redis entry and cookie) and answers the IdP's
 * end-session URL with id_token_hint, which Authentik needs to send the user back to PUBLIC_URL.
 */
export async function signOutOidc(event: H3Event): Promise<string> {
  let record: SessionRecord | null = null
  if (getCookie(event, MODULE_SESSION_COOKIE)) {
    const session = await moduleSession(event)
    if (session.id) {
      record = await sessionStore().getItem<SessionRecord>(session.id)
      await sessionStore().removeItem(session.id)
      // Every copy of the cookie is refused at once on the other replicas too.
      if (record?.userId) await announceUserChange(record.userId)
    }
    await session.clear()
  }
  deleteCookie(event, MODULE_FLOW_COOKIE, { path: '/' })
  const home = publicUrl(useConfig())
  // Signed out here even when the IdP is unreachable; its own session then stays.
  const idp = await useIdentityProvider().catch(() => null)
  const endSession = idp?.discovery.end_session_endpoint
  if (!idp || !endSession) return home
  const url = new URL(endSession)
  if (record?.idToken) {
    url.searchParams.set('id_token_hint', await decryptToken(record.idToken))
    url.searchParams.set('post_logout_redirect_uri', home)
  }
  url.searchParams.set('client_id', idp.clientId)
  return url.toString()
}

/** Ends every server-side session of a user (admin revocation); their next request is a 401. */
export async function endSessionsOf(userId: string): Promise<void> {
  const store = sessionStore()
  const ids = await store.getItem<string[]>(userIndexKey(userId)) ?? []
  await Promise.all(ids.map(id => store.removeItem(id)))
  await store.removeItem(userIndexKey(userId))
}
