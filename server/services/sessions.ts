import type { H3Event } from 'h3'
import { createError } from 'h3'
import { audit } from './audit'
import { endSessionsOf } from './oidc-sessions'
import { revokeSessions } from './users'

/**
 * Revokes every session of a user: sessions issued before now are refused by the principal
 * resolver (local cookies and OIDC sessions alike), and the server-side OIDC sessions with
 * their refresh tokens are deleted.
 */
export async function revokeUserSessions(event: H3Event, actorId: string, userId: string): Promise<void> {
  if (!await revokeSessions(userId)) throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'There is no such user.' })
  await endSessionsOf(userId)
  await audit(event, { action: 'sessions_revoked', actorId, target: { type: 'user', id: userId } })
}
