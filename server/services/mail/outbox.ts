import { and, asc, desc, eq, inArray, lt, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type { Transporter } from 'nodemailer'
import { createError } from 'h3'
import type { MailContent } from '#shared/types/mail'
import type { Database } from '../../db/client'
import { attachments, mailMessageIds, mailOutbox, users } from '../../db/schema'
import type { OutboxRow } from '../../db/schema'
import { useConfig } from '../../utils/config'
import { decodeCursor, pageOf } from '../../utils/cursor'
import { useLogger } from '../../utils/logger'
import { defineJob } from '../jobs'
import { asSystem } from '../visibility'
import { bareAddress, mailDomain, mailFrom, newMessageId } from './addresses'
import { renderMail } from './render'
import { useMailTransport, withMailConnection } from './transport'

/** One mail to queue, in the caller's transaction. */
export interface OutgoingMail {
  ticketId: string | null
  userId: string | null
  to: string
  kind: string
  /** What caused it: one mail per event key and address. */
  eventKey: string
  subject: string
  content: MailContent
  commentId?: string
  /** Reply-To, List-Unsubscribe and other per-recipient headers. */
  headers: Record<string, string>
  /** Why it is not sent (e.g. the address bounced); the row is kept as `suppressed`. */
  suppressed?: string
  /** Seconds to hold it first (files of a reply are uploaded right after the reply). */
  holdSeconds?: number
}

// Advisory-lock namespace: a delivery waits for the transaction that queued its mail to end.
const lockSpace = 74_311

/** The thread a ticket's mails continue: a root Message-ID of ours, and the newest one known. */
async function threadOf(tx: Database, ticketId: string): Promise<{ root: string, last: string }> {
  const root = `ticket-${ticketId}@${mailDomain()}`
  await tx.insert(mailMessageIds).values({ messageId: root, ticketId }).onConflictDoNothing()
  const [last] = await tx.select({ id: mailMessageIds.messageId }).from(mailMessageIds)
    .where(eq(mailMessageIds.ticketId, ticketId)).orderBy(desc(mailMessageIds.createdAt)).limit(1)
  return { root, last: last?.id ?? root }
}

/**
 * Writes mails into the outbox inside the transaction of the change that causes them, so they
 * exist exactly when the change does; delivery is announced to the worker and waits for the commit.
 */
export async function queueMails(tx: Database, mails: OutgoingMail[]): Promise<void> {
  if (!mails.length) return
  const lockKey = mails[0]!.ticketId ?? mails[0]!.userId ?? mails[0]!.to
  await tx.execute(sql`select pg_advisory_xact_lock_shared(${lockSpace}, hashtext(${lockKey}))`)
  const thread = mails[0]!.ticketId ? await threadOf(tx, mails[0]!.ticketId) : null
  const rows = mails.map((mail) => {
    const messageId = newMessageId()
    const headers: Record<string, string> = {
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      ...(thread ? { 'In-Reply-To': `<${thread.last}>`, 'References': [...new Set([thread.root, thread.last])].map(id => `<${id}>`).join(' ') } : {}),
      ...mail.headers,
    }
    const { text, html } = renderMail(mail.content)
    const now = new Date()
    return {
      ticketId: mail.ticketId,
      userId: mail.userId,
      toAddress: bareAddress(mail.to),
      kind: mail.kind,
      eventKey: mail.eventKey,
      messageId,
      commentId: mail.commentId ?? null,
      content: mail.content,
      subject: mail.subject,
      textBody: text,
      htmlBody: html,
      headers,
      state: mail.suppressed ? 'suppressed' as const : 'queued' as const,
      lastError: mail.suppressed ?? null,
      nextAttemptAt: new Date(now.getTime() + (mail.holdSeconds ?? 0) * 1000),
    }
  })
  // No RETURNING: the author of the change may not read the outbox.
  await tx.insert(mailOutbox).values(rows).onConflictDoNothing()
  const threaded = rows.filter(r => r.ticketId)
  if (threaded.length) await tx.insert(mailMessageIds).values(threaded.map(r => ({ messageId: r.messageId, ticketId: r.ticketId! }))).onConflictDoNothing()
  const due = rows.filter(r => r.state === 'queued').map(r => r.messageId)
  if (due.length) {
    const hold = Math.max(...mails.map(m => m.holdSeconds ?? 0)) * 1000
    // Not awaited: a queue outage must not undo the change; the periodic sweep sends the mail then.
    deliverMail.enqueue({ messageIds: due, lockKey }, { delay: hold }).catch(error => useLogger().warn({ err: error }, 'could not announce queued mail; the sweep will send it'))
  }
}

const retryDelaySeconds = (attempt: number) => useConfig().MAIL_RETRY_BASE_SECONDS * 2 ** (attempt - 1)

/** Claims due rows (state queued → sending, with a lease) so no other worker sends them. */
async function claim(tx: Database, where: SQL | undefined, limit: number): Promise<OutboxRow[]> {
  const due = tx.select({ id: mailOutbox.id }).from(mailOutbox)
    .where(and(eq(mailOutbox.state, 'queued'), sql`${mailOutbox.nextAttemptAt} <= now()`, where))
    .orderBy(asc(mailOutbox.nextAttemptAt)).limit(limit).for('update', { skipLocked: true })
  return tx.update(mailOutbox)
    .set({ state: 'sending', attempts: sql`${mailOutbox.attempts} + 1`, lockedUntil: sql`now() + interval '5 minutes'`, updatedAt: new Date() })
    .where(inArray(mailOutbox.id, due)).returning()
}

/** A reply's files are listed as they are when the mail goes out. */
async function withFiles(tx: Database, row: OutboxRow): Promise<Pick<OutboxRow, 'textBody' | 'htmlBody' | 'content'>> {
  if (!row.commentId) return row
  const files = await tx.select({ name: attachments.filename, size: attachments.size }).from(attachments)
    .where(and(eq(attachments.commentId, row.commentId), eq(attachments.state, 'ready'))).orderBy(asc(attachments.createdAt))
  if (!files.length) return row
  const content = { ...row.content, files }
  const { text, html } = renderMail(content)
  return { content, textBody: text, htmlBody: html }
}

/** Permanent SMTP answers (5xx) will not change on retry. */
const permanent = (error: unknown) => {
  const code = (error as { responseCode?: number }).responseCode
  return typeof code === 'number' && code >= 500
}

async function send(row: OutboxRow, transport: Transporter): Promise<void> {
  const bounced = await asSystem(tx => tx.select({ id: users.id }).from(users)
    .where(and(sql`lower(${users.email}) = ${row.toAddress}`, sql`${users.emailBouncedAt} is not null`)).limit(1))
  if (bounced.length) {
    await asSystem(tx => tx.update(mailOutbox).set({ state: 'suppressed', lastError: 'The address bounced earlier; an admin can clear it.', lockedUntil: null, updatedAt: new Date() }).where(eq(mailOutbox.id, row.id)))
    return
  }
  const final = await asSystem(tx => withFiles(tx, row))
  const { 'In-Reply-To': inReplyTo, 'References': references, 'Reply-To': replyTo, ...headers } = row.headers
  try {
    await transport.sendMail({
      from: mailFrom(),
      to: row.toAddress,
      subject: row.subject,
      text: final.textBody,
      html: final.htmlBody,
      messageId: `<${row.messageId}>`,
      inReplyTo,
      references,
      replyTo,
      headers,
    })
    await asSystem(tx => tx.update(mailOutbox).set({ ...final, state: 'sent', sentAt: new Date(), lastError: null, lockedUntil: null, updatedAt: new Date() }).where(eq(mailOutbox.id, row.id)))
  }
  catch (error) {
    const message = (error as Error).message?.slice(0, 1000) || String(error)
    const giveUp = permanent(error) || row.attempts >= useConfig().MAIL_MAX_ATTEMPTS
    const wait = retryDelaySeconds(row.attempts)
    await asSystem(tx => tx.update(mailOutbox).set({
      state: giveUp ? 'failed' : 'queued',
      lastError: message,
      lockedUntil: null,
      nextAttemptAt: sql`now() + make_interval(secs => ${wait})`,
      updatedAt: new Date(),
    }).where(eq(mailOutbox.id, row.id)))
    useLogger().warn({ err: error, outboxId: row.id, attempt: row.attempts, giveUp }, giveUp ? 'mail failed' : 'mail not sent yet, will retry')
    if (!giveUp) await deliverMail.enqueue({ messageIds: [row.messageId] }, { delay: wait * 1000 }).catch(() => { /* the sweep retries */ })
  }
}

/** Claims and sends due mail; returns how many rows were attempted. Without SMTP_HOST nothing is sent. */
export async function deliverDue(where?: SQL, limit = 20): Promise<number> {
  if (!useMailTransport()) return 0
  const rows = await asSystem(tx => claim(tx, where, limit))
  if (!rows.length) return 0
  await withMailConnection(async (transport) => {
    for (const row of rows) await send(row, transport)
  })
  return rows.length
}

/** Sends the named mails once the transaction that queued them has ended. */
export const deliverMail = defineJob<{ messageIds: string[], lockKey?: string }>('mail.deliver', async ({ messageIds, lockKey }) => {
  if (lockKey) await asSystem(tx => tx.execute(sql`select pg_advisory_xact_lock(${lockSpace}, hashtext(${lockKey}))`))
  await deliverDue(inArray(mailOutbox.messageId, messageIds), messageIds.length)
}, { attempts: 1 })

/**
 * Periodic safety net: mail whose announcement was lost (a crash, a Redis outage) or whose
 * sender died mid-send (lease expired) goes out from here.
 */
export const sweepOutbox = defineJob('mail.sweep', async () => {
  await asSystem(tx => tx.update(mailOutbox).set({ state: 'queued', lockedUntil: null, updatedAt: new Date() })
    .where(and(eq(mailOutbox.state, 'sending'), lt(mailOutbox.lockedUntil, sql`now()`))))
  for (let round = 0; round < 10; round++) {
    if (await deliverDue(undefined, 50) < 50) break
  }
}, { attempts: 1, every: () => useConfig().MAIL_SWEEP_INTERVAL * 1000 })

// --- Admin → Mail ------------------------------------------------------------------------------

export interface OutboxQuery {
  state?: OutboxRow['state']
  cursor?: string
  limit: number
}

const listColumns = {
  id: mailOutbox.id,
  ticketId: mailOutbox.ticketId,
  to: mailOutbox.toAddress,
  kind: mailOutbox.kind,
  subject: mailOutbox.subject,
  state: mailOutbox.state,
  attempts: mailOutbox.attempts,
  lastError: mailOutbox.lastError,
  nextAttemptAt: mailOutbox.nextAttemptAt,
  sentAt: mailOutbox.sentAt,
  createdAt: mailOutbox.createdAt,
}

/** Newest first, keyset-paginated on (created_at, id). */
const isOutboxKey = (v: unknown): v is [string, string] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === 'string' && /^[0-9a-f-]{36}$/.test(v[1])

export async function listOutbox(query: OutboxQuery) {
  const cursor = query.cursor ? decodeCursor(query.cursor, isOutboxKey) : null
  const after = cursor && new Date(cursor[0])
  const rows = await asSystem(tx => tx.select(listColumns).from(mailOutbox)
    .where(and(
      query.state ? eq(mailOutbox.state, query.state) : undefined,
      cursor ? or(lt(mailOutbox.createdAt, after!), and(eq(mailOutbox.createdAt, after!), lt(mailOutbox.id, cursor[1]))) : undefined,
    ))
    .orderBy(desc(mailOutbox.createdAt), desc(mailOutbox.id)).limit(query.limit + 1))
  const page = pageOf(rows, query.limit, r => [r.createdAt.toISOString(), r.id])
  const counts = await asSystem(tx => tx.select({ state: mailOutbox.state, n: sql<number>`count(*)::int` }).from(mailOutbox).groupBy(mailOutbox.state))
  return { data: page.data.map(toView), meta: { ...page.meta, counts: Object.fromEntries(counts.map(c => [c.state, c.n])) } }
}

function toView<T extends { nextAttemptAt: Date, sentAt: Date | null, createdAt: Date }>(row: T) {
  return { ...row, nextAttemptAt: row.nextAttemptAt.toISOString(), sentAt: row.sentAt?.toISOString() ?? null, createdAt: row.createdAt.toISOString() }
}

const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'There is no such mail.' })

/** One mail with its rendered message, as sent (or as it will be sent). */
export async function getOutboxMail(id: string) {
  const [row] = await asSystem(tx => tx.select({ ...listColumns, messageId: mailOutbox.messageId, headers: mailOutbox.headers, text: mailOutbox.textBody, html: mailOutbox.htmlBody })
    .from(mailOutbox).where(eq(mailOutbox.id, id)))
  if (!row) throw notFound()
  return { ...toView(row), from: mailFrom() }
}

/** Puts a failed (or suppressed) mail back into the queue with a fresh set of attempts. */
export async function retryOutboxMail(id: string) {
  const rows = await asSystem(tx => tx.update(mailOutbox)
    .set({ state: 'queued', attempts: 0, nextAttemptAt: new Date(), lockedUntil: null, updatedAt: new Date() })
    .where(and(eq(mailOutbox.id, id), inArray(mailOutbox.state, ['failed', 'suppressed']))).returning({ messageId: mailOutbox.messageId }))
  if (!rows.length) {
    await getOutboxMail(id)
    throw createError({ statusCode: 409, statusMessage: 'Conflict', message: 'Only failed or suppressed mail can be retried.' })
  }
  await deliverMail.enqueue({ messageIds: [rows[0]!.messageId] }).catch(() => { /* the sweep sends it */ })
  return getOutboxMail(id)
}
