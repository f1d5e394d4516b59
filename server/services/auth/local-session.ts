import { randomBytes } from 'node:crypto'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { and, eq, lt, sql } from 'drizzle-orm'
import { jwtVerify, SignJWT } from 'jose'
import { useDb } from '#server/db/client'
import { localSessions } from '#server/db/schema'
import type { UserWithOrgs } from '#server/services/users'
import { findUserWithOrgs } from '#server/services/users'
import { useConfig } from '#server/utils/config'
import { rememberedSession } from './session-memo'

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

/**
 * A new session of `userId`: a row in local_sessions (so it can end on the server) and the
 * signed cookie value naming it. The user's expired rows are cleared on the way.
 */
export async function issueLocalSession(userId: string): Promise<string> {
  const { SESSION_MAX_AGE } = useConfig()
  const sid = randomBytes(24).toString('base64url')
  const db = await useDb()
  await db.delete(localSessions).where(and(eq(localSessions.userId, userId), lt(localSessions.expiresAt, new Date())))
  await db.insert(localSessions).values({ id: sid, userId, expiresAt: new Date(Date.now() + SESSION_MAX_AGE * 1000) })
  // `ts` keeps milliseconds, so a revocation and a new sign-in in the same second are told apart.
  return new SignJWT({ ts: Date.now(), sid })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${SESSION_MAX_AGE}s`)
    .sign(await secret())
}

async function decode(token: string) {
  try {
    const { payload } = await jwtVerify(token, await secret(), { issuer, audience, algorithms: ['HS256'] })
    if (!payload.sub || typeof payload.ts !== 'number' || typeof payload.sid !== 'string' || typeof payload.exp !== 'number') return null
    return { userId: payload.sub, issuedAt: new Date(payload.ts), sid: payload.sid, expiresAt: payload.exp * 1000 }
  }
  catch {
    return null
  }
}

type LocalSession = { user: UserWithOrgs, issuedAt: Date }

/**
 * The signed-in user, with their organisations, and when the session was issued, while its
 * server-side row exists; else null. One statement, as every request of a signed-in browser
 * reads it (a round trip less than reading the session and then the user), and remembered for a
 * few seconds (session-memo.ts).
 */
export async function localSessionUser(token: string): Promise<LocalSession | null> {
  return rememberedSession(LOCAL_SESSION_COOKIE, token, async () => {
    const session = await decode(token)
    if (!session) return null
    // Spelt out and qualified: the user's statement names its own columns unqualified.
    const user = await findUserWithOrgs(session.userId, sql`exists (select 1 from local_sessions ls
      where ls.id = ${session.sid} and ls.user_id = users.id and ls.expires_at > ${new Date()})`)
    return user && { value: { user, issuedAt: session.issuedAt }, until: session.expiresAt }
  })
}

/**
 * Ends the session a cookie names (sign-out): the cookie, and every copy of it, is refused from
 * now on. Answers whose session it was: the caller announces the change (revocation.ts), which
 * makes every replica, this one included, forget what it remembers.
 */
export async function endLocalSession(token: string): Promise<string | null> {
  const session = await decode(token)
  if (!session) return null
  await (await useDb()).delete(localSessions).where(eq(localSessions.id, session.sid))
  return session.userId
}

/** Ends every local session of a user (revocation, deactivation); the caller announces it, as above. */
export async function endLocalSessionsOf(userId: string): Promise<void> {
  await (await useDb()).delete(localSessions).where(eq(localSessions.userId, userId))
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
