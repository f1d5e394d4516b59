import { z } from 'zod'

/** What a notification says, before it becomes text and HTML (server/services/mail/render.ts). */
export interface MailContent {
  /** The first paragraph, e.g. "Ada Lovelace replied to your request." */
  intro: string
  /** A quoted reply or ticket description, shown as written. */
  quote?: { author: string, text: string }
  /** Further paragraphs. */
  lines?: string[]
  /** The main link and its label. */
  action?: { label: string, url: string }
  /** Files listed under the quote. */
  files?: { name: string, size: number }[]
  /** Why the recipient gets this, and how to stop it. */
  footer: string
  /** Replying to the mail adds to the ticket. */
  replyable: boolean
}

/** The kinds of notification mail a user can turn off one by one. */
export const notificationPreferences = ['ticket_created', 'reply', 'resolved', 'assigned'] as const
export type NotificationPreference = (typeof notificationPreferences)[number]

/** GET/PUT /api/me/notifications */
export const notificationSettingsSchema = z.object({
  email: z.boolean(),
  events: z.object(Object.fromEntries(notificationPreferences.map(k => [k, z.boolean()])) as Record<NotificationPreference, z.ZodBoolean>),
})
export type NotificationSettings = z.infer<typeof notificationSettingsSchema>

const newPassword = z.string().min(12, 'must be at least 12 characters').max(1024)

export const passwordResetRequestSchema = z.object({ email: z.string().trim().min(1, 'is required').max(320) })
export const passwordResetConfirmSchema = z.object({ token: z.string().min(20, 'is not a valid link').max(200), password: newPassword })
export const passwordChangeSchema = z.object({ current: z.string().min(1, 'is required').max(1024), password: newPassword })

export const outboxStateList = ['queued', 'sending', 'sent', 'failed', 'suppressed'] as const
export type OutboxState = (typeof outboxStateList)[number]

export interface OutboxMail {
  id: string
  ticketId: string | null
  to: string
  kind: string
  subject: string
  state: OutboxState
  attempts: number
  lastError: string | null
  nextAttemptAt: string
  sentAt: string | null
  createdAt: string
}

export interface OutboxMailDetail extends OutboxMail {
  from: string
  messageId: string
  headers: Record<string, string>
  text: string
  html: string
}
