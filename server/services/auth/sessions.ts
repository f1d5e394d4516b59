import { createError } from 'h3'
import type { Actor } from '#server/utils/principal'
import { audit } from '#server/services/audit'
import { endLocalSessionsOf } from './local-session'
import { endSessionsOf } from './oidc-sessions'
import { announceUserChange } from './revocation'
import { revokeSessions } from '#server/services/users'

/**
 * Revokes every session of a user: sessions issued before now are refused by the principal
 * resolver (local cookies and OIDC sessions alike), and the server-side OIDC sessions with
 * their refresh tokens are deleted.
 */
export async function revokeUserSessions(actor: Actor, userId: string): Promise<void> {
  if (!await revokeSessions(userId)) throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'There is no such user.' })
  await endAllSessionsOf(userId)
  await audit(actor, { action: 'sessions_revoked', target: { type: 'user', id: userId } })
}

/**
 * After an admin changed a user: what their tokens were allowed is derived afresh on every
 * replica, and a deactivated user's server-side sessions end at once, not when they expire.
 */
export async function afterUserChange(userId: string, deactivated: boolean): Promise<void> {
  if (deactivated) await Promise.all([endSessionsOf(userId), endLocalSessionsOf(userId)])
  await announceUserChange(userId)
}

/** Ends every server-side session of a user (OIDC and local) and tells every replica. */
export async function endAllSessionsOf(userId: string): Promise<void> {
  await Promise.all([endSessionsOf(userId), endLocalSessionsOf(userId)])
  // Once they are gone: a replica that forgets and reads again finds none.
  await announceUserChange(userId)
}
