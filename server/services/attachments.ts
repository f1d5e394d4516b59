import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { and, asc, count, eq, gt, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { createError } from 'h3'
import { z } from 'zod'
import type { Attachment, PresignInput, PresignedUpload } from '../../shared/types/attachment'
import { isStaff } from '../../shared/utils/roles'
import type { Database } from '../db/client'
import { attachments, comments, tickets, users } from '../db/schema'
import { useConfig } from '../utils/config'
import { badRequest, conflict, notFound } from '../utils/errors'
import { decodeCursor, pageOf } from '../utils/cursor'
import { contentDisposition, sanitizeFilename } from '../utils/filename'
import { useLogger } from '../utils/logger'
import { receiveFile } from '../utils/multipart'
import type { Principal } from '../utils/principal'
import type { Storage } from '../utils/storage'
import { StoredFileMissing, UploadTooLarge } from '../utils/storage'
import { acceptSignedUpload } from '../utils/storage/local'
import { announceAttachment } from './live/events'
import { useStorage } from './storage-settings'
import type { ThreadQuery } from './tickets'
import { lockVisibleTicket, visibleTicketId } from './tickets'
import { asPrincipal, asSystem, canSeeInternalNotes, ticketVisibility } from './visibility'

const attachmentNotFound = () => notFound('Attachment not found.')
const invalid = (field: string, problem: string) => badRequest({ field, problem })

const columns = {
  id: attachments.id,
  filename: attachments.filename,
  size: attachments.size,
  contentType: attachments.contentType,
  state: attachments.state,
  commentId: attachments.commentId,
  createdAt: attachments.createdAt,
  uploadedBy: { id: users.id, name: users.name },
}
type AttachmentSelection = { createdAt: Date } & Omit<Attachment, 'createdAt'>

function toAttachment(row: AttachmentSelection): Attachment {
  return { ...row, createdAt: row.createdAt.toISOString() }
}

/** A file on the ticket itself or on a public reply (not on an internal note). */
const publicFile = () => or(isNull(attachments.commentId), eq(comments.internal, false))

/** An attachment shares the visibility of its ticket and, on an internal note, of the note. */
function attachmentVisibility(principal: Principal): SQL {
  return and(ticketVisibility(principal), canSeeInternalNotes(principal) ? undefined : publicFile())!
}

function selectVisible(db: Database, principal: Principal, where: SQL | undefined) {
  return db.select({ ...columns, key: attachments.key }).from(attachments)
    .innerJoin(tickets, eq(tickets.id, attachments.ticketId))
    .innerJoin(users, eq(users.id, attachments.uploadedBy))
    .leftJoin(comments, eq(comments.id, attachments.commentId))
    .where(and(attachmentVisibility(principal), where))
}

const isUuid = (id: string) => z.uuid().safeParse(id).success

/** The attachment `attId` of ticket `ticketId` (already visible), if the caller may see it; pending ones only to their uploader. */
async function findAttachment(db: Database, principal: Principal, ticketId: string, attId: string) {
  if (!isUuid(attId)) throw attachmentNotFound()
  const [row] = await selectVisible(db, principal, and(
    eq(attachments.id, attId),
    eq(attachments.ticketId, ticketId),
    or(eq(attachments.state, 'ready'), eq(attachments.uploadedBy, principal.userId)),
  ))
  if (!row) throw attachmentNotFound()
  return row
}

export function isAllowedType(contentType: string): boolean {
  return useConfig().ALLOWED_UPLOAD_TYPES.some(allowed =>
    allowed === contentType || (allowed.endsWith('*') && contentType.startsWith(allowed.slice(0, -1))))
}

/** The checks every upload passes before anything is stored. */
function checkFile(file: { contentType: string, size?: number }) {
  const { MAX_UPLOAD_BYTES } = useConfig()
  if (file.size !== undefined && file.size > MAX_UPLOAD_BYTES) throw invalid('size', `must be at most ${MAX_UPLOAD_BYTES} bytes`)
  if (!isAllowedType(file.contentType)) throw invalid('contentType', `is not allowed (${file.contentType})`)
}

/**
 * Records a pending attachment on a visible ticket (or on the caller's own comment on it),
 * within the per-ticket cap. The ticket row is locked, so concurrent uploads cannot pass the cap.
 */
async function reserve(principal: Principal, id: string, file: { filename: string, contentType: string, size: number, commentId?: string }) {
  const { MAX_ATTACHMENTS_PER_TICKET } = useConfig()
  return asPrincipal(principal, async (tx) => {
    const ticket = await lockVisibleTicket(tx, principal, id)
    if (file.commentId) {
      const [comment] = await tx.select({ id: comments.id }).from(comments)
        .where(and(eq(comments.id, file.commentId), eq(comments.ticketId, ticket.id), eq(comments.authorId, principal.userId)))
      if (!comment) throw invalid('commentId', 'not one of your comments on this ticket')
    }
    const [existing] = await tx.select({ n: count() }).from(attachments).where(eq(attachments.ticketId, ticket.id))
    if (existing!.n >= MAX_ATTACHMENTS_PER_TICKET) throw conflict(`This ticket already has the maximum of ${MAX_ATTACHMENTS_PER_TICKET} attachments.`)
    const attId = randomUUID()
    const [row] = await tx.insert(attachments).values({
      id: attId,
      ticketId: ticket.id,
      commentId: file.commentId ?? null,
      // Server-generated: nothing the uploader sends ends up in the key.
      key: `tickets/${ticket.id}/${attId}`,
      filename: sanitizeFilename(file.filename),
      size: file.size,
      contentType: file.contentType,
      uploadedBy: principal.userId,
    }).returning()
    return row!
  })
}

async function readAttachment(tx: Database, attId: string): Promise<Attachment> {
  const [row] = await tx.select(columns).from(attachments).innerJoin(users, eq(users.id, attachments.uploadedBy)).where(eq(attachments.id, attId))
  return toAttachment(row!)
}

export async function presignUpload(principal: Principal, id: string, input: PresignInput): Promise<PresignedUpload> {
  checkFile(input)
  const { UPLOAD_URL_TTL } = useConfig()
  const row = await reserve(principal, id, input)
  const storage = await useStorage()
  const upload = await storage.presignUpload(row.key, { contentType: row.contentType, contentDisposition: contentDisposition(row.filename), size: row.size, expiresIn: UPLOAD_URL_TTL })
  return {
    attachment: await asPrincipal(principal, tx => readAttachment(tx, row.id)),
    upload: { ...upload, method: 'PUT', expiresAt: new Date(Date.now() + UPLOAD_URL_TTL * 1000).toISOString() },
  }
}

/** The second half of a presigned upload: the object must exist with exactly the announced size. */
export async function completeUpload(principal: Principal, id: string, attId: string): Promise<Attachment> {
  const storage = await useStorage()
  let readyOn: string | undefined
  const attachment = await asPrincipal(principal, async (tx) => {
    const ticketId = await visibleTicketId(tx, principal, id)
    if (!isUuid(attId)) throw attachmentNotFound()
    const [row] = await tx.select().from(attachments)
      .where(and(eq(attachments.id, attId), eq(attachments.ticketId, ticketId), eq(attachments.uploadedBy, principal.userId)))
      .for('update')
    if (!row) throw attachmentNotFound()
    if (row.state === 'ready') return readAttachment(tx, row.id)
    const stored = await storage.stat(row.key)
    if (!stored) throw conflict('The file has not been uploaded yet.')
    if (stored.size !== row.size) {
      await storage.remove(row.key)
      throw conflict(`The uploaded file has ${stored.size} bytes, but ${row.size} were announced. Upload it again.`)
    }
    await tx.update(attachments).set({ state: 'ready' }).where(eq(attachments.id, row.id))
    readyOn = ticketId
    return readAttachment(tx, row.id)
  })
  if (readyOn) await announceAttachment(readyOn, attachment, principal.userId)
  return attachment
}

/** multipart/form-data with a `file` part (and optionally `commentId` before it), streamed into storage. */
export async function uploadDirect(principal: Principal, id: string, req: IncomingMessage): Promise<Attachment> {
  await asPrincipal(principal, tx => visibleTicketId(tx, principal, id))
  const { MAX_UPLOAD_BYTES } = useConfig()
  // Room for the multipart framing around the file.
  if (Number(req.headers['content-length'] ?? 0) > MAX_UPLOAD_BYTES + 64 * 1024) throw invalid('file', `must be at most ${MAX_UPLOAD_BYTES} bytes`)
  const storage = await useStorage()

  return receiveFile(req, 'file', MAX_UPLOAD_BYTES, async (file) => {
    const contentType = (file.mimeType || 'application/octet-stream').toLowerCase()
    checkFile({ contentType })
    const commentId = file.fields.commentId || undefined
    if (commentId && !isUuid(commentId)) throw invalid('commentId', 'not one of your comments on this ticket')
    const row = await reserve(principal, id, { filename: file.filename, contentType, size: 0, commentId })
    // The file streams outside any transaction; the row is pending meanwhile.
    try {
      const size = await storage.write(row.key, file.stream, { contentType, contentDisposition: contentDisposition(row.filename), maxBytes: MAX_UPLOAD_BYTES })
      if (size === 0) throw invalid('file', 'is empty')
      const ready = await asPrincipal(principal, async (tx) => {
        await tx.update(attachments).set({ size, state: 'ready' }).where(eq(attachments.id, row.id))
        return readAttachment(tx, row.id)
      })
      await announceAttachment(row.ticketId, ready, principal.userId)
      return ready
    }
    catch (error) {
      await asPrincipal(principal, tx => tx.delete(attachments).where(eq(attachments.id, row.id)))
      await storage.remove(row.key).catch(() => {})
      if (error instanceof UploadTooLarge) throw invalid('file', `must be at most ${MAX_UPLOAD_BYTES} bytes`)
      throw error
    }
  })
}

/** The local store's upload URL (see `Storage.presignUpload`); 403 like S3 for forged or expired URLs. */
export async function receiveSignedUpload(token: string, contentType: string | undefined, body: IncomingMessage): Promise<void> {
  const storage = await useStorage()
  if (storage.backend !== 'local') throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Uploads go to object storage.' })
  const pending = (key: string) => asSystem(async tx => (await tx.select({ id: attachments.id }).from(attachments)
    .where(and(eq(attachments.key, key), eq(attachments.state, 'pending')))).length > 0)
  const result = await acceptSignedUpload(storage, token, contentType, body, pending)
  if (result === 'forbidden') throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'This upload URL is not valid or has expired.' })
  if (result === 'wrong-type') throw invalid('content-type', 'must be the type announced when the upload was requested')
  if (result === 'wrong-size') throw invalid('body', 'must have the size announced when the upload was requested')
}

const attachmentCursor = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === 'string' && isUuid(v[1])

/** Ready attachments of a visible ticket, oldest first; those on internal notes only for agents and above. */
export async function listAttachments(principal: Principal, id: string, query: ThreadQuery) {
  let after: SQL | undefined
  if (query.cursor) {
    const [at, lastId] = decodeCursor(query.cursor, attachmentCursor)
    after = or(gt(attachments.createdAt, new Date(at)), and(eq(attachments.createdAt, new Date(at)), gt(attachments.id, lastId)))
  }
  const rows = await asPrincipal(principal, async tx => selectVisible(tx, principal, and(eq(attachments.ticketId, await visibleTicketId(tx, principal, id)), eq(attachments.state, 'ready'), after))
    .orderBy(asc(attachments.createdAt), asc(attachments.id)).limit(query.limit + 1))
  const page = pageOf(rows, query.limit, r => [r.createdAt.toISOString(), r.id])
  return { data: page.data.map(({ key: _, ...r }) => toAttachment(r)), meta: page.meta }
}

export async function openDownload(principal: Principal, id: string, attId: string) {
  const row = await asPrincipal(principal, async tx => findAttachment(tx, principal, await visibleTicketId(tx, principal, id), attId))
  if (row.state !== 'ready') throw attachmentNotFound()
  return openFile(row)
}

/** The files a share link shows: ready, and never one on an internal note. */
export function sharedAttachments(tx: Database, ticketId: string, attId?: string) {
  return tx.select({ ...columns, key: attachments.key }).from(attachments)
    .innerJoin(users, eq(users.id, attachments.uploadedBy))
    .leftJoin(comments, eq(comments.id, attachments.commentId))
    .where(and(eq(attachments.ticketId, ticketId), eq(attachments.state, 'ready'), publicFile(), attId ? eq(attachments.id, attId) : undefined))
    .orderBy(asc(attachments.createdAt), asc(attachments.id))
}

/** A download of a file found by `sharedAttachments`, like any other download. */
export async function openFile(row: { key: string, filename: string, contentType: string }) {
  const storage = await useStorage()
  const download = await storage.download(row.key, { expiresIn: useConfig().DOWNLOAD_URL_TTL }).catch((error: unknown) => {
    if (!(error instanceof StoredFileMissing)) throw error
    useLogger().error({ key: row.key, backend: storage.backend }, 'an attachment is listed but its file is not in storage')
    throw notFound(`“${row.filename}” is no longer in storage. An administrator can restore it from a backup.`)
  })
  return { ...download, contentDisposition: contentDisposition(row.filename), contentType: row.contentType }
}

/** The uploader, or agents and above, may delete a file on a ticket they can see. */
export async function deleteAttachment(principal: Principal, id: string, attId: string): Promise<void> {
  const row = await asPrincipal(principal, async (tx) => {
    const found = await findAttachment(tx, principal, await visibleTicketId(tx, principal, id), attId)
    if (found.uploadedBy.id !== principal.userId && !isStaff(principal.roles)) {
      throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only the uploader or an agent can delete this file.' })
    }
    await tx.delete(attachments).where(eq(attachments.id, found.id))
    return found
  })
  await removeObjects(await useStorage(), [row.key])
}

async function removeObjects(storage: Storage, keys: string[]) {
  for (const key of keys) {
    // The row is gone either way; an object left behind is logged for the operator.
    await storage.remove(key).catch((error: Error) => useLogger().warn({ err: error, key }, 'could not remove a stored attachment'))
  }
}

/** Removes uploads that were announced but never completed; returns how many. Safe to run on every replica at once. */
export async function cleanUpPendingUploads(): Promise<number> {
  const { PENDING_UPLOAD_MAX_AGE } = useConfig()
  const removed = await asSystem((tx) => {
    const stale = tx.select({ id: attachments.id }).from(attachments)
      .where(and(eq(attachments.state, 'pending'), lt(attachments.createdAt, sql`now() - make_interval(secs => ${PENDING_UPLOAD_MAX_AGE})`)))
      .limit(200).for('update', { skipLocked: true })
    return tx.delete(attachments).where(inArray(attachments.id, stale)).returning({ key: attachments.key })
  })
  if (removed.length) await removeObjects(await useStorage(), removed.map(r => r.key))
  return removed.length
}
