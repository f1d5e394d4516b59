import type { UserWithOrgs } from '#server/services/users'

/**
 * What a session cookie resolved to, remembered for a few seconds per process: a signed-in
 * browser sends several requests at once, and each read its session and user (a local session's
 * row, or an OIDC session's Redis record, and the user with their organisations). Nothing that
 * changed is served from here: sign-out, revocation, deactivation and every change of the user
 * forget it on every replica at once (`forgetSessionsOf`, called by revocation.ts), and a lookup
 * that overlapped a forgetting is not kept. The memo only bounds what nobody announces (an
 * organisation renamed) to `MEMO_MS`.
 */
export const MEMO_MS = 5_000
const MAX_ENTRIES = 10_000
const memos = new Set<{ forget: (userId: string) => void }>()
let forgettings = 0

export class SessionMemo<T extends { user: UserWithOrgs }> {
  private readonly entries = new Map<string, { value: T, until: number }>()

  constructor() {
    memos.add(this)
  }

  /**
   * The remembered answer for `cookie`, or `lookup`'s, which is kept until `MEMO_MS` from now
   * or the instant `lookup` gives (the session's end, or when it must be renewed), if sooner.
   */
  async resolve(cookie: string, lookup: () => Promise<{ value: T, until: number } | null>): Promise<T | null> {
    const now = Date.now()
    const known = this.entries.get(cookie)
    if (known && known.until > now) return known.value
    if (known) this.entries.delete(cookie)
    const before = forgettings
    const found = await lookup()
    if (!found) return null
    const until = Math.min(now + MEMO_MS, found.until)
    if (before === forgettings && until > now) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!)
      this.entries.set(cookie, { value: found.value, until })
    }
    return found.value
  }

  forget(userId: string): void {
    for (const [cookie, known] of this.entries) {
      if (known.value.user.id === userId) this.entries.delete(cookie)
    }
  }
}

/** Forgets what this process remembers of a user's sessions, of every kind (revocation.ts). */
export function forgetSessionsOf(userId: string): void {
  forgettings++
  for (const memo of memos) memo.forget(userId)
}
