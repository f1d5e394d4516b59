import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { and, count, eq, inArray, isNull, lt, notInArray, or, sql } from 'drizzle-orm'
import { attachments, comments, inboundMessages, tickets, users } from '#server/db/schema'
import type { InboundMessageRow } from '#server/db/schema'
import { isAllowedType } from '#server/services/attachments'
import { addComment } from '#server/services/comments'
import { useStorage } from '#server/services/storage-settings'
import { createTicket } from '#server/services/tickets'
import type { UserWithOrgs } from '#server/services/users'
import { asSystem } from '#server/services/visibility'
import { useConfig } from '#server/utils/config'
import { contentDisposition, sanitizeFilename } from '#server/utils/filename'
import { useLogger } from '#server/utils/logger'
import { toPrincipal } from '#server/services/auth/resolve'
import { withinRateLimit } from '#server/utils/rate-limit'
import { classify } from './classify'
import { messageText } from './content'
import { ownIdentity } from './identity'
import { rememberMessageId, threadLookups, ticketForMessageIds } from './lookups'
import type { InboundMail, MailAttachment } from './parse'
import { parseMessage } from './parse'
import { knownSender, senderAsUser } from './senders'
import { findThread, threadHints } from './threading'
import { storedIdFor } from './stored-ids'

type Outcome = Pick<InboundMessageRow, 'state' | 'result' | 'ticketId' | 'commentId' | 'reason'> & { fullText?: string | null }

const ignored = (reason: string, ticketId: string | null = null): Outcome => ({ state: 'ignored', result: null, ticketId, commentId: null, reason })

// Ticket and reply texts have the same limits as in the browser.
const maxText = 20_000
const maxTitle = 200

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 60).trimEnd()}\n\n[… shortened; the whole message is kept for admins]` : text
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** Which files of a message may be stored (the storage layer's limits), and a line for each that may not. */
function checkAttachments(files: MailAttachment[], room: number) {
  const { MAX_UPLOAD_BYTES } = useConfig()
  const kept: MailAttachment[] = []
  const left: string[] = []
  for (const file of files) {
    const name = sanitizeFilename(file.filename)
    if (file.content.length > MAX_UPLOAD_BYTES) left.push(`${name} (${megabytes(file.content.length)}, over the ${megabytes(MAX_UPLOAD_BYTES)} limit)`)
    else if (!file.content.length) left.push(`${name} (empty)`)
    else if (!isAllowedType(file.contentType)) left.push(`${name} (files of type ${file.contentType} are not accepted)`)
    else if (kept.length >= room) left.push(`${name} (the ticket already has the most attachments allowed)`)
    else kept.push(file)
  }
  return { kept, left }
}

/** The text a ticket or reply shows: `cid:` pictures named, left-out files listed. */
function composeText(text: string, mail: InboundMail, left: string[]): string {
  const named = new Map(mail.attachments.filter(a => a.contentId).map(a => [a.contentId!, a.filename]))
  let body = text.replace(/!\[([^\]]*)\]\(cid:([^)\s]+)\)/g, (_, alt: string, cid: string) => `[picture: ${named.get(cid) ?? alt ?? 'inline image'}, attached]`)
  if (left.length) body += `\n\n---\nLeft out of this mail:\n${left.map(l => `- ${l}`).join('\n')}`
  return clip(body.trim() || '(no text)', maxText)
}

/** What one message stores, by the ids it gets on every attempt (`storedIdFor`). */
function storedBy(inboundId: string, mail: InboundMail) {
  const files = mail.attachments.map((_, i) => storedIdFor(inboundId, `file:${i}`))
  return {
    ticket: storedIdFor(inboundId, 'ticket'),
    reply: storedIdFor(inboundId, 'reply'),
    note: storedIdFor(inboundId, 'note'),
    files,
    file: (file: MailAttachment) => files[mail.attachments.indexOf(file)]!,
  }
}
type Stored = ReturnType<typeof storedBy>

/**
 * Stores the message's files on the ticket (or reply) through the storage layer, but those an
 * earlier attempt stored. A file that fails is logged, not fatal.
 */
async function storeAttachments(files: MailAttachment[], ticketId: string, commentId: string | null, uploaderId: string, stored: Stored) {
  if (!files.length) return
  const storage = await useStorage()
  const { MAX_UPLOAD_BYTES } = useConfig()
  const earlier = new Set((await asSystem(tx => tx.select({ id: attachments.id }).from(attachments)
    .where(inArray(attachments.id, files.map(stored.file))))).map(r => r.id))
  for (const file of files) {
    const id = stored.file(file)
    if (earlier.has(id)) continue
    const key = `tickets/${ticketId}/${id}`
    const filename = sanitizeFilename(file.filename)
    try {
      const size = await storage.write(key, Readable.from(file.content), { contentType: file.contentType, contentDisposition: contentDisposition(filename), maxBytes: MAX_UPLOAD_BYTES })
      await asSystem(tx => tx.insert(attachments).values({ id, ticketId, commentId, key, filename, size, contentType: file.contentType, state: 'ready', uploadedBy: uploaderId }))
    }
    catch (error) {
      await storage.remove(key).catch(() => {})
      useLogger().error({ err: error, ticketId, filename }, 'could not store an attachment of an inbound mail')
    }
  }
}

/** Room for the message's files on the ticket; its own, stored by an earlier attempt, take none. */
async function attachmentRoom(ticketId: string | null, stored: Stored): Promise<number> {
  const { MAX_ATTACHMENTS_PER_TICKET } = useConfig()
  if (!ticketId) return MAX_ATTACHMENTS_PER_TICKET
  const own = stored.files.length ? notInArray(attachments.id, stored.files) : undefined
  const [row] = await asSystem(tx => tx.select({ n: count() }).from(attachments).where(and(eq(attachments.ticketId, ticketId), own)))
  return Math.max(0, MAX_ATTACHMENTS_PER_TICKET - row!.n)
}

const isUniqueViolation = (error: unknown) => [error, (error as { cause?: unknown })?.cause].some(e => (e as { code?: string } | undefined)?.code === '23505')

/**
 * Takes the message's dedupe key (its Message-ID, else a hash of the bytes). Only one stored copy
 * of a message can hold it; a copy that finds it taken is a duplicate of that one.
 */
async function claim(row: InboundMessageRow): Promise<{ ticketId: string | null } | null> {
  const key = row.messageId ? `mid:${row.messageId}` : `sha256:${createHash('sha256').update(row.raw).digest('hex')}`
  if (row.dedupeKey === key) return null
  try {
    await asSystem(tx => tx.update(inboundMessages).set({ dedupeKey: key }).where(eq(inboundMessages.id, row.id)))
    return null
  }
  catch (error) {
    if (!isUniqueViolation(error)) throw error
    const [holder] = await asSystem(tx => tx.select({ ticketId: inboundMessages.ticketId }).from(inboundMessages).where(eq(inboundMessages.dedupeKey, key)))
    return { ticketId: holder?.ticketId ?? null }
  }
}

/** An automatic reply on a ticket: recorded as an internal note, never answered, never a ticket. */
async function recordAutoReply(mail: InboundMail, sender: UserWithOrgs | null, reason: string, stored: Stored): Promise<Outcome> {
  const thread = await findThread(threadHints(mail), threadLookups(sender))
  if (!thread.ticketId || !sender) return ignored(`automatic reply (${reason}): no ticket opened, not answered`)
  const text = messageText(mail)
  await asSystem(tx => tx.insert(comments).values({
    id: stored.note,
    ticketId: thread.ticketId!,
    authorId: sender.id,
    body: clip(`Automatic reply received (${reason}); not answered.\n\n${text.body}`, maxText),
    internal: true,
  }).onConflictDoNothing())
  return { state: 'processed', result: 'appended', ticketId: thread.ticketId, commentId: stored.note, reason: `automatic reply (${reason}): recorded, not answered`, fullText: text.full }
}

/** Delivery status notification: the failed recipients' addresses are marked as bounced. */
async function recordBounce(failed: string[], originalIds: string[]): Promise<Outcome> {
  if (failed.length) {
    await asSystem(tx => tx.update(users).set({ emailBouncedAt: new Date() })
      .where(and(inArray(sql`lower(${users.email})`, failed), isNull(users.emailBouncedAt))))
  }
  const ticketId = await ticketForMessageIds(originalIds)
  return { state: 'processed', result: 'bounce', ticketId, commentId: null, reason: failed.length ? `delivery failed for ${failed.join(', ')}` : 'delivery report without a failed recipient' }
}

async function fromPerson(mail: InboundMail, stored: Stored): Promise<Outcome> {
  const from = mail.from!
  const known = await knownSender(from.address)
  if (known && !known.active) return ignored(`the sender's account (${from.address}) is deactivated`)
  const thread = await findThread(threadHints(mail), threadLookups(known))
  const text = messageText(mail)
  const { kept, left } = checkAttachments(mail.attachments, await attachmentRoom(thread.ticketId, stored))

  if (thread.ticketId) {
    // Staff answer publicly; a requester's answer to a resolved or closed ticket reopens it.
    // A mail answers what its writer read: it is never held back as a crossed reply.
    const [earlier] = await asSystem(tx => tx.select({ ticketId: comments.ticketId }).from(comments).where(eq(comments.id, stored.reply)))
    if (!earlier) {
      const reply = await addComment(toPrincipal(known!, 'mail'), thread.ticketId, { body: composeText(text.body, mail, left), internal: false, confirm: true }, { id: stored.reply })
      if ('newer' in reply) throw new Error('a confirmed reply cannot conflict')
    }
    const ticketId = earlier?.ticketId ?? thread.ticketId
    await storeAttachments(kept, ticketId, stored.reply, known!.id, stored)
    return { state: 'processed', result: 'appended', ticketId, commentId: stored.reply, reason: `reply threaded by ${thread.via}`, fullText: text.full }
  }

  // A ticket an earlier attempt stored (it did not finish) is kept; only missing files are added.
  const [earlier] = await asSystem(tx => tx.select({ requesterId: tickets.requesterId }).from(tickets).where(eq(tickets.id, stored.ticket)))
  let requesterId = earlier?.requesterId
  if (!requesterId) {
    if (!(await withinRateLimit('mail_inbound', from.address))) {
      return ignored(`more than ${useConfig().MAIL_INBOUND_RATE?.points} new tickets from ${from.address} within the limit's window (MAIL_INBOUND_RATE)`)
    }
    const sender = known ?? await senderAsUser(from)
    // A new ticket keeps the quoted history: it is the context of the request.
    const title = clip(mail.subject.replace(/\s+/g, ' ').trim() || text.body.split('\n')[0]!.slice(0, 80) || '(no subject)', maxTitle)
    await createTicket(toPrincipal(sender, 'mail'), { title: title.slice(0, maxTitle), body: composeText(text.full, mail, left) }, undefined, { id: stored.ticket })
    requesterId = sender.id
  }
  await storeAttachments(kept, stored.ticket, null, requesterId, stored)
  return { state: 'processed', result: 'created', ticketId: stored.ticket, commentId: null, reason: 'reason' in thread ? thread.reason : null, fullText: text.full }
}

async function decide(row: InboundMessageRow): Promise<Outcome> {
  const raw = Buffer.from(row.raw)
  const mail = await parseMessage(raw)
  const kind = classify(mail, raw, ownIdentity())
  if (kind.kind === 'own') return ignored(`loop: ${kind.reason}`)
  const duplicate = await claim(row)
  if (duplicate) return { state: 'ignored', result: 'duplicate', ticketId: duplicate.ticketId, commentId: null, reason: `already received (Message-ID ${row.messageId ?? 'none, same bytes'})` }
  if (kind.kind === 'bounce') return recordBounce(kind.failedRecipients, kind.originalMessageIds)
  if (!mail.from) return ignored('no sender address (From)')
  const stored = storedBy(row.id, mail)
  if (kind.kind === 'auto-reply') return recordAutoReply(mail, await knownSender(mail.from.address), kind.reason, stored)
  return fromPerson(mail, stored)
}

async function finish(row: InboundMessageRow, outcome: Outcome) {
  await asSystem(async (tx) => {
    await tx.update(inboundMessages).set({ ...outcome, processedAt: new Date(), leaseUntil: null }).where(eq(inboundMessages.id, row.id))
    if (outcome.ticketId && (outcome.result === 'created' || outcome.result === 'appended')) await rememberMessageId(tx, row.messageId, outcome.ticketId)
  })
}

// Longer than any processing takes; a process that died holding it lets go after this.
const leaseSeconds = 300

/**
 * Turns one stored message into a ticket, a reply, a recorded automatic reply or a bounce, or
 * ignores it with a reason. Safe to run again: a processed message is left alone, and a second
 * copy of a message finds the first one's claim. On the last attempt a failure is recorded.
 */
export async function processInboundMessage(id: string, options: { lastAttempt?: boolean } = {}): Promise<void> {
  const [row] = await asSystem(tx => tx.update(inboundMessages)
    .set({ attempts: sql`${inboundMessages.attempts} + 1`, leaseUntil: sql`now() + make_interval(secs => ${leaseSeconds})` })
    .where(and(
      eq(inboundMessages.id, id),
      inArray(inboundMessages.state, ['queued', 'failed']),
      or(isNull(inboundMessages.leaseUntil), lt(inboundMessages.leaseUntil, sql`now()`)),
    )).returning())
  if (!row) return
  try {
    await finish(row, await decide(row))
  }
  catch (error) {
    if (!(options.lastAttempt ?? true)) {
      await asSystem(tx => tx.update(inboundMessages).set({ leaseUntil: null }).where(eq(inboundMessages.id, id)))
      throw error
    }
    useLogger().error({ err: error, inboundId: id }, 'processing an inbound mail failed')
    // Released, so an admin's retry or a later copy can still turn it into a ticket.
    await finish(row, { state: 'failed', result: null, ticketId: null, commentId: null, reason: (error as Error).message.slice(0, 500) })
    await asSystem(tx => tx.update(inboundMessages).set({ dedupeKey: null }).where(eq(inboundMessages.id, id)))
  }
}
