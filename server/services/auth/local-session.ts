import { randomBytes } from 'node:crypto'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { jwtVerify, SignJWT } from 'jose'
import { useConfig } from '#server/utils/config'

export const LOCAL_SESSION_COOKIE = 'hd_auth'
const issuer = 'helpdesk'
const audience = 'helpdesk-session'

let secretPromise: Promise<Uint8Array> | undefined

/**
 * AUTH_LOCAL_SECRET in production (checked at start-up). In development a secret is generated
 * once and kept in the data directory, so restarting the app does not sign everyone out.
 */
async function loadSecret(): Promise<Uint8Array> {
  const config = useConfig()
  if (config.AUTH_LOCAL_SECRET) return new TextEncoder().encode(config.AUTH_LOCAL_SECRET)
  const file = join(config.DATA_DIR, 'session-secret')
  const existing = await readFile(file, 'utf8').catch(() => '')
  if (existing.trim().length >= 32) return new TextEncoder().encode(existing.trim())
  const generated = randomBytes(32).toString('base64url')
  await mkdir(config.DATA_DIR, { recursive: true })
  await writeFile(file, generated, { mode: 0o600 })
  return new TextEncoder().encode(generated)
}

function secret() {
  secretPromise ??= loadSecret()
  return secretPromise
}

export async function issueLocalSession(userId: string): Promise<string> {
  const { SESSION_MAX_AGE } = useConfig()
  // `ts` keeps milliseconds, so a revocation and a new sign-in in the same second are told apart.
  return new SignJWT({ ts: Date.now() })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${SESSION_MAX_AGE}s`)
    .sign(await secret())
}

/** The signed-in user id and when the session was issued, or null for anything not ours. */
export async function verifyLocalSession(token: string): Promise<{ userId: string, issuedAt: Date } | null> {
  try {
    const { payload } = await jwtVerify(token, await secret(), { issuer, audience, algorithms: ['HS256'] })
    if (!payload.sub || typeof payload.ts !== 'number') return null
    return { userId: payload.sub, issuedAt: new Date(payload.ts) }
  }
  catch {
    return null
  }
}

export function localSessionCookieOptions() {
  const config = useConfig()
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: config.production || config.PUBLIC_URL?.startsWith('https://') === true,
    path: '/',
    maxAge: config.SESSION_MAX_AGE,
  }
}
