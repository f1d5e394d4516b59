import { createHash, randomBytes } from 'node:crypto'
import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import { createError } from 'h3'
import { useDb } from '../db/client'
import { passwordResets, users } from '../db/schema'
import { publicUrl, useConfig } from '../utils/config'
import { hashPassword, verifyPassword } from './auth/password'
import { audit } from './audit'
import { queueMails } from './mail/outbox'
import type { Actor } from '#server/utils/principal'
import { endAllSessionsOf } from './auth/sessions'

const validMinutes = 30
const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url')

/**
 * Mails a single-use reset link valid for 30 minutes to an active account with this address.
 * The caller answers 202 whatever happened, so nobody learns which addresses have accounts.
 */
export async function requestPasswordReset(actor: Actor, email: string): Promise<void> {
  const db = await useDb()
  const [user] = await db.select({ id: users.id, email: users.email, name: users.name }).from(users)
    .where(and(sql`lower(${users.email}) = ${email.toLowerCase()}`, eq(users.active, true)))
  if (!user) return
  const token = randomBytes(32).toString('base64url')
  const url = `${publicUrl(useConfig())}/reset/${token}`
  await db.transaction(async (tx) => {
    await tx.insert(passwordResets).values({ tokenHash: hashOf(token), userId: user.id, expiresAt: new Date(Date.now() + validMinutes * 60_000) })
    await queueMails(tx, [{
      ticketId: null,
      userId: user.id,
      to: user.email,
      kind: 'password_reset',
      eventKey: `reset:${hashOf(token)}`,
      subject: 'Reset your Helpdesk password',
      headers: {},
      content: {
        intro: `Hello ${user.name}, someone (hopefully you) asked to reset the password of your Helpdesk account.`,
        lines: [`The link works once, for ${validMinutes} minutes. If you did not ask for this, ignore this email: your password stays as it is.`],
        action: { label: 'Choose a new password', url },
        footer: 'You receive this because a password reset was requested for this address.',
        replyable: false,
      },
    }])
  })
  await audit({ ...actor, actorId: user.id }, { action: 'password_reset_requested', target: { type: 'user', id: user.id } })
}

/** Sets the new password once per link, ends every session of the user. */
export async function confirmPasswordReset(actor: Actor, token: string, password: string): Promise<void> {
  const db = await useDb()
  const passwordHash = await hashPassword(password)
  const userId = await db.transaction(async (tx) => {
    const [reset] = await tx.update(passwordResets).set({ usedAt: new Date() })
      .where(and(eq(passwordResets.tokenHash, hashOf(token)), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, new Date())))
      .returning({ userId: passwordResets.userId })
    if (!reset) return null
    // Other links sent before this one stop working too.
    await tx.update(passwordResets).set({ usedAt: new Date() }).where(and(eq(passwordResets.userId, reset.userId), isNull(passwordResets.usedAt)))
    const done = await tx.update(users).set({ passwordHash, sessionsValidAfter: new Date(), updatedAt: new Date() })
      .where(and(eq(users.id, reset.userId), eq(users.active, true))).returning({ id: users.id })
    return done[0]?.id ?? null
  })
  if (!userId) {
    throw createError({ statusCode: 400, statusMessage: 'Invalid input', message: 'token: this link has expired or was already used; ask for a new one', data: { issues: [{ field: 'token', problem: 'this link has expired or was already used; ask for a new one' }] } })
  }
  await endAllSessionsOf(userId)
  await audit({ ...actor, actorId: userId }, { action: 'password_reset', target: { type: 'user', id: userId } })
}

/**
 * A signed-in user's new password, after checking the current one. Every session issued before
 * now ends (users.sessions_valid_after); the caller then issues a fresh session for this one.
 */
export async function changePassword(actor: Actor, userId: string, current: string, password: string): Promise<void> {
  const db = await useDb()
  const [user] = await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId))
  if (!await verifyPassword(current, user?.passwordHash)) {
    throw createError({ statusCode: 400, statusMessage: 'Invalid input', message: 'current: is not your current password', data: { issues: [{ field: 'current', problem: 'is not your current password' }] } })
  }
  await db.update(users).set({ passwordHash: await hashPassword(password), sessionsValidAfter: new Date(), updatedAt: new Date() }).where(eq(users.id, userId))
  await endAllSessionsOf(userId)
  await audit({ ...actor, actorId: userId }, { action: 'password_changed', target: { type: 'user', id: userId } })
}
