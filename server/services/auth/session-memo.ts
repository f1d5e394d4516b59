import type { UserWithOrgs } from '#server/services/users'

/**
 * What a session cookie resolved to, remembered for a few seconds per process: a signed-in
 * browser sends several requests at once, and each read its session and user (a local session's
 * row, or an OIDC session's Redis record, and the user with their organisations). Nothing that
 * changed is served from here: sign-out, revocation, deactivation and every change of the user
 * forget it on every replica at once (`forgetSessionsOf`, called by revocation.ts), and a lookup
 * that overlapped a forgetting is not kept. The memo only bounds what nobody announces (an
 * organisation renamed) to `MEMO_MS`. One memo for both kinds: a process runs one AUTH_MODE,
 * and each entry is keyed by its cookie's name as well as its value.
 */
const MEMO_MS = 5_000
const MAX_ENTRIES = 10_000
const entries = new Map<string, { value: { user: UserWithOrgs }, until: number }>()
let forgettings = 0

/**
 * The remembered answer for the cookie `name=value`, or `lookup`'s, which is kept until `MEMO_MS`
 * from now or the instant `lookup` gives (the session's end, or when it must be renewed), if sooner.
 * Each cookie name is resolved by one caller, so an entry holds what that caller's lookup answered.
 */
export async function rememberedSession<T extends { user: UserWithOrgs }>(name: string, value: string,
  lookup: () => Promise<{ value: T, until: number } | null>): Promise<T | null> {
  const key = `${name}=${value}`
  const now = Date.now()
  const known = entries.get(key)
  if (known && known.until > now) return known.value as T
  if (known) entries.delete(key)
  const before = forgettings
  const found = await lookup()
  if (!found) return null
  const until = Math.min(now + MEMO_MS, found.until)
  if (before === forgettings && until > now) {
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!)
    entries.set(key, { value: found.value, until })
  }
  return found.value
}

/** Forgets what this process remembers of a user's sessions (revocation.ts, on every replica). */
export function forgetSessionsOf(userId: string): void {
  forgettings++
  for (const [key, known] of entries) {
    if (known.value.user.id === userId) entries.delete(key)
  }
}
