import { eq } from 'drizzle-orm'
import type { Actor } from '#server/utils/principal'
import { z } from 'zod'
import { useDb } from '../../db/client'
import { settings } from '../../db/schema'
import { useConfig } from '../../utils/config'
import { audit } from '../audit'
import { mailFrom } from './addresses'

export const mailSettingsSchema = z.object({ acknowledgeNewTickets: z.boolean() })
export type MailSettings = z.infer<typeof mailSettingsSchema>

/** What Admin → Mail shows: the editable settings and how outgoing mail is configured (from the environment). */
export async function getMailSettings() {
  const db = await useDb()
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, 'mail'))
  const stored = row?.value as Partial<MailSettings> | undefined
  const config = useConfig()
  return {
    acknowledgeNewTickets: stored?.acknowledgeNewTickets !== false,
    smtp: config.SMTP_HOST
      ? { configured: true, host: config.SMTP_HOST, port: config.SMTP_PORT, tls: config.SMTP_SECURE ? 'implicit TLS' : config.SMTP_REQUIRE_TLS ? 'STARTTLS required' : 'STARTTLS when offered', from: mailFrom(), replyTo: config.MAIL_REPLY_TO ?? null }
      : { configured: false, host: null, port: null, tls: null, from: mailFrom(), replyTo: config.MAIL_REPLY_TO ?? null },
  }
}

export async function setMailSettings(actor: Actor, input: MailSettings) {
  const db = await useDb()
  await db.insert(settings).values({ key: 'mail', value: input, updatedBy: actor.actorId })
    .onConflictDoUpdate({ target: settings.key, set: { value: input, updatedBy: actor.actorId, updatedAt: new Date() } })
  await audit(actor, { action: 'settings_changed', target: { type: 'settings', id: 'mail' }, details: input })
  return getMailSettings()
}
