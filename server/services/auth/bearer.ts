import { apiScopes } from '#shared/types/user'
import { decodeProtectedHeader, errors, importJWK, jwtVerify } from 'jose'
import type { JWK, JWTPayload } from 'jose'
import { useConfig } from '#server/utils/config'
import { DependencyUnavailable } from '#server/utils/dependencies'
import type { AuthFailureReason } from '#server/utils/metrics'
import { authFailures, jwksRefreshes } from '#server/utils/metrics'
import { useLogger } from '#server/utils/logger'

/**
 * Bearer tokens minted by the identity provider: signature checked against its JWKS (RS256 or
 * ES256 only), then iss / aud / exp / nbf with JWT_CLOCK_SKEW_SECONDS of tolerance.
 *
 * Hot path: a token that verified once is remembered until it expires, so a gateway asking about
 * the same token again costs a map lookup, no signature check (keyed by the token itself: its
 * SHA-256 cost 3 of the 11 µs a warm `/api/auth/validate` spent beyond a bare route).
 */

const allowedAlgorithms = ['RS256', 'ES256'] as const
type Algorithm = (typeof allowedAlgorithms)[number]

export interface TokenClaims {
  subject: string | null
  clientId: string | null
  scopes: string[]
  email: string | null
  name: string | null
  issuedAt: number | null
  /** Seconds since the epoch. */
  expiresAt: number
}

export interface VerifiedToken {
  claims: TokenClaims
  /** Whatever the caller derived from the claims (the principal), kept until `until` (ms). */
  memo?: { value: unknown, until: number }
}

type Verification = { ok: true, token: VerifiedToken } | { ok: false, reason: AuthFailureReason }

// ---- the IdP's signing keys ------------------------------------------------------------------

interface SigningKey { key: CryptoKey, alg: Algorithm }

let keys: Map<string, SigningKey> | undefined
let fetching: Promise<void> | undefined
let lastFetchAt = 0
let refreshTimer: ReturnType<typeof setInterval> | undefined

function algorithmOf(jwk: JWK): Algorithm | null {
  if (jwk.use && jwk.use !== 'sig') return null
  const inferred = jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : null
  if (jwk.alg && jwk.alg !== inferred) return null
  return inferred
}

async function loadKeys(trigger: 'first_use' | 'background' | 'unknown_kid'): Promise<void> {
  const { OIDC_JWKS_URL } = useConfig()
  lastFetchAt = Date.now()
  try {
    const res = await fetch(OIDC_JWKS_URL!, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } })
    if (!res.ok) throw new Error(`JWKS answered ${res.status}`)
    const body = await res.json() as { keys?: JWK[] }
    const next = new Map<string, SigningKey>()
    for (const jwk of body.keys ?? []) {
      const alg = algorithmOf(jwk)
      if (!alg || !jwk.kid) continue
      next.set(jwk.kid, { key: await importJWK(jwk, alg) as CryptoKey, alg })
    }
    keys = next
    jwksRefreshes.inc({ trigger, result: 'ok' })
  }
  catch (error) {
    // Keep the keys we have: a flaky IdP must not sign everybody out.
    jwksRefreshes.inc({ trigger, result: 'error' })
    useLogger().warn({ err: error, trigger }, 'could not fetch the identity provider\'s signing keys')
  }
}

function refresh(trigger: 'first_use' | 'background' | 'unknown_kid'): Promise<void> {
  fetching ??= loadKeys(trigger).finally(() => (fetching = undefined))
  return fetching
}

function startBackgroundRefresh() {
  if (refreshTimer) return
  refreshTimer = setInterval(() => void refresh('background'), useConfig().JWKS_REFRESH_SECONDS * 1000)
  refreshTimer.unref()
}

/**
 * The key for `kid`. An unknown kid refetches the JWKS (key rotation) at most once per
 * JWKS_MIN_REFETCH_SECONDS, shared by every request waiting for it, so made-up kids cannot
 * turn into a stream of requests to the IdP.
 */
async function signingKey(kid: string): Promise<SigningKey | 'unknown' | 'unavailable'> {
  if (!keys) {
    if (fetching || Date.now() - lastFetchAt >= useConfig().JWKS_MIN_REFETCH_SECONDS * 1000) await refresh('first_use')
    if (!keys) return 'unavailable'
    startBackgroundRefresh()
  }
  let key = keys.get(kid)
  if (key) return key
  if (fetching || Date.now() - lastFetchAt >= useConfig().JWKS_MIN_REFETCH_SECONDS * 1000) {
    await refresh('unknown_kid')
    key = keys.get(kid)
  }
  return key ?? 'unknown'
}

// ---- verified tokens -----------------------------------------------------------------------------

/**
 * By the end of the token's signature, and holding the token itself: a lookup hashes 32
 * characters, not all ~800 of a JWT (1 µs of a warm validate), and the whole token is compared
 * before it counts. Tokens that end alike take turns in one place, each verified when it comes.
 */
const verified = new Map<string, { raw: string, token: VerifiedToken }>()
const maxRemembered = 10_000
const keyOf = (raw: string) => raw.slice(-32)

function remember(raw: string, token: VerifiedToken) {
  if (verified.size >= maxRemembered) verified.delete(verified.keys().next().value!)
  verified.set(keyOf(raw), { raw, token })
}

/** The token as verified before, while it has not expired (no promise: the gateway's hot path). */
export function rememberedToken(raw: string): VerifiedToken | undefined {
  const key = keyOf(raw)
  const known = verified.get(key)
  if (!known || known.raw !== raw) return undefined
  if (known.token.claims.expiresAt * 1000 > Date.now()) return known.token
  verified.delete(key)
  return undefined
}

function reasonOf(error: unknown): AuthFailureReason {
  if (error instanceof errors.JWTExpired) return 'expired'
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return 'not_yet_valid'
    if (error.claim === 'iss') return 'issuer'
    if (error.claim === 'aud') return 'audience'
    return 'claims'
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature'
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm'
  return 'malformed'
}

// RFC 9068 access tokens say `at+jwt`; IdPs that do not set it send plain `JWT` (or nothing).
const accessTokenTypes = new Set(['at+jwt', 'application/at+jwt', 'jwt'])

/**
 * Only access tokens are API tokens: an ID token (nonce, at_hash, Keycloak's `typ: ID`) was
 * meant for this app's sign-in, not for calling its API, and a token without any scope the
 * API knows grants nothing.
 */
function isAccessToken(payload: JWTPayload): boolean {
  if (payload.nonce !== undefined || payload.at_hash !== undefined) return false
  if (typeof payload.typ === 'string' && !['bearer', 'at+jwt'].includes(payload.typ.toLowerCase())) return false
  return claimsOf(payload).scopes.some(s => (apiScopes as readonly string[]).includes(s))
}

const text = (v: unknown) => (typeof v === 'string' && v ? v : null)

function claimsOf(payload: JWTPayload): TokenClaims {
  const scope = typeof payload.scope === 'string' ? payload.scope.split(' ') : Array.isArray(payload.scp) ? payload.scp : []
  return {
    subject: text(payload.sub),
    clientId: text(payload.client_id) ?? text(payload.azp),
    scopes: scope.filter((s): s is string => typeof s === 'string' && !!s),
    email: text(payload.email),
    name: text(payload.name) ?? text(payload.preferred_username),
    issuedAt: typeof payload.iat === 'number' ? payload.iat : null,
    expiresAt: payload.exp!,
  }
}

async function check(token: string): Promise<Verification> {
  let header
  try {
    header = decodeProtectedHeader(token)
  }
  catch {
    return { ok: false, reason: 'malformed' }
  }
  if (!allowedAlgorithms.includes(header.alg as Algorithm)) return { ok: false, reason: 'algorithm' }
  if (!accessTokenTypes.has(String(header.typ ?? 'jwt').toLowerCase())) return { ok: false, reason: 'not_access_token' }
  if (typeof header.kid !== 'string' || !header.kid) return { ok: false, reason: 'unknown_kid' }
  const key = await signingKey(header.kid)
  if (key === 'unavailable') return { ok: false, reason: 'jwks_unavailable' }
  if (key === 'unknown') return { ok: false, reason: 'unknown_kid' }
  if (key.alg !== header.alg) return { ok: false, reason: 'algorithm' }
  const config = useConfig()
  try {
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: config.OIDC_ISSUER,
      audience: config.OIDC_AUDIENCE,
      clockTolerance: config.JWT_CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp'],
    })
    if (!isAccessToken(payload)) return { ok: false, reason: 'not_access_token' }
    return { ok: true, token: { claims: claimsOf(payload) } }
  }
  catch (error) {
    return { ok: false, reason: reasonOf(error) }
  }
}

/** The verified token, or null after counting why it was refused in `auth_failures_total`. */
export async function verifyBearerToken(token: string): Promise<VerifiedToken | null> {
  const known = rememberedToken(token)
  if (known) return known
  const result = await check(token)
  if (!result.ok) {
    authFailures.inc({ reason: result.reason })
    // Keys that could never be fetched say nothing about the token: an outage (503), not a refusal.
    if (result.reason === 'jwks_unavailable') throw new DependencyUnavailable('identity provider')
    return null
  }
  remember(token, result.token)
  return result.token
}

/**
 * Drops what was derived from this user's tokens (their principal), so a revocation, a
 * deactivation or a role change applies to the very next request carrying one.
 */
export function forgetTokenPrincipalsOf(userId: string): void {
  for (const { token } of verified.values()) {
    if ((token.memo?.value as { userId?: string } | null | undefined)?.userId === userId) token.memo = undefined
  }
}

/** The token of an `Authorization: Bearer …` header, or null for any other header. */
export function bearerTokenOf(authorization: string | undefined): string | null {
  if (!authorization || authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') return null
  return authorization.slice(7).trim() || null
}
