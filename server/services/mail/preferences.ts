import { eq } from 'drizzle-orm'
import { notificationPreferences } from '#shared/types/mail'
import type { NotificationSettings } from '#shared/types/mail'
import { useDb } from '../../db/client'
import { notificationSettings } from '../../db/schema'
import { verifyUnsubscribeToken } from './addresses'

/** A user's notification settings; everything is on until they change it. */
export async function getNotificationSettings(userId: string): Promise<NotificationSettings> {
  const db = await useDb()
  const [row] = await db.select().from(notificationSettings).where(eq(notificationSettings.userId, userId))
  return {
    email: row?.email ?? true,
    events: Object.fromEntries(notificationPreferences.map(k => [k, !row?.mutedKinds.includes(k)])) as NotificationSettings['events'],
  }
}

export async function setNotificationSettings(userId: string, input: NotificationSettings): Promise<NotificationSettings> {
  const db = await useDb()
  const values = { email: input.email, mutedKinds: notificationPreferences.filter(k => !input.events[k]), updatedAt: new Date() }
  await db.insert(notificationSettings).values({ userId, ...values }).onConflictDoUpdate({ target: notificationSettings.userId, set: values })
  return getNotificationSettings(userId)
}

/** One-click unsubscribe (RFC 8058): all notification mail off for the token's user; false for a token that is not ours. */
export async function unsubscribe(token: string): Promise<boolean> {
  const userId = await verifyUnsubscribeToken(token)
  if (!userId) return false
  const db = await useDb()
  await db.insert(notificationSettings).values({ userId, email: false }).onConflictDoUpdate({ target: notificationSettings.userId, set: { email: false, updatedAt: new Date() } })
    // A token of a deleted user: nothing left to unsubscribe.
    .catch((error: { code?: string, cause?: { code?: string } }) => {
      if ((error.cause?.code ?? error.code) !== '23503') throw error
    })
  return true
}
