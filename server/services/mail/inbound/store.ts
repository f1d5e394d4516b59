import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { createError } from 'h3'
import { z } from 'zod'
import { inboundMessages } from '#server/db/schema'
import type { InboundLogEntry, InboundOutcome } from '#shared/types/inbound-mail'
import { decodeCursor, pageOf } from '#server/utils/cursor'
import type { Principal } from '#server/utils/principal'
import { asPrincipal, asSystem } from '#server/services/visibility'
import { looksLikeMessage, parseMessage } from './parse'

export type InboundSource = 'relay' | 'imap'

const notAMessage = () => createError({ statusCode: 400, statusMessage: 'Invalid input', message: 'body: is not an RFC 822 message', data: { issues: [{ field: 'body', problem: 'is not an RFC 822 message' }] } })

/**
 * Stores a received message raw, before anything else, and returns its id; processing happens
 * in a job. A body that is not a message is refused (400) and nothing is stored.
 */
export async function storeInboundMessage(raw: Buffer, source: InboundSource): Promise<string> {
  if (!raw.length || !looksLikeMessage(raw)) throw notAMessage()
  // The header block is enough to log it; the body is parsed by the job.
  const end = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n')
  const mail = await parseMessage(end >= 0 ? Buffer.concat([raw.subarray(0, end), Buffer.from('\r\n\r\n')]) : raw).catch(() => null)
  if (!mail) throw notAMessage()
  const [row] = await asSystem(tx => tx.insert(inboundMessages).values({
    source,
    raw,
    size: raw.length,
    messageId: mail.messageId,
    fromAddress: mail.from?.address ?? null,
    subject: mail.subject.slice(0, 500) || null,
  }).returning({ id: inboundMessages.id }))
  return row!.id
}

/** Which of these Message-IDs are stored already (the IMAP reader skips what it stored before a crash). */
export async function storedMessageIds(ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set()
  const rows = await asSystem(tx => tx.select({ messageId: inboundMessages.messageId }).from(inboundMessages)
    .where(inArray(inboundMessages.messageId, ids)))
  return new Set(rows.map(r => r.messageId!))
}

const outcomeColumns = {
  id: inboundMessages.id,
  state: inboundMessages.state,
  result: inboundMessages.result,
  ticketId: inboundMessages.ticketId,
  reason: inboundMessages.reason,
}

const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Message not found.' })

export async function inboundOutcome(principal: Principal, id: string): Promise<InboundOutcome> {
  if (!z.uuid().safeParse(id).success) throw notFound()
  const [row] = await asPrincipal(principal, tx => tx.select(outcomeColumns).from(inboundMessages).where(eq(inboundMessages.id, id)))
  if (!row) throw notFound()
  return row
}

/** The raw message as received, for admins (download as .eml). */
export async function inboundRaw(principal: Principal, id: string): Promise<Buffer> {
  if (!z.uuid().safeParse(id).success) throw notFound()
  const [row] = await asPrincipal(principal, tx => tx.select({ raw: inboundMessages.raw }).from(inboundMessages).where(eq(inboundMessages.id, id)))
  if (!row) throw notFound()
  return Buffer.from(row.raw)
}

export const inboundListQuerySchema = (maxPageSize: number) => z.object({
  state: z.enum(['queued', 'processed', 'ignored', 'failed']).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(maxPageSize, `must be at most ${maxPageSize}`).default(Math.min(25, maxPageSize)),
})
export type InboundListQuery = z.infer<ReturnType<typeof inboundListQuerySchema>>

const logCursor = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])) && z.uuid().safeParse(v[1]).success

/** The inbound log, newest first (admins). */
export async function listInbound(principal: Principal, query: InboundListQuery) {
  let before: SQL | undefined
  if (query.cursor) {
    const [at, lastId] = decodeCursor(query.cursor, logCursor)
    before = or(lt(inboundMessages.receivedAt, new Date(at)), and(eq(inboundMessages.receivedAt, new Date(at)), lt(inboundMessages.id, lastId)))
  }
  const rows = await asPrincipal(principal, tx => tx.select({
    ...outcomeColumns,
    source: inboundMessages.source,
    messageId: inboundMessages.messageId,
    from: inboundMessages.fromAddress,
    subject: inboundMessages.subject,
    size: inboundMessages.size,
    ticketNumber: sql<number | null>`(select number from tickets where tickets.id = ${inboundMessages.ticketId})`,
    receivedAt: inboundMessages.receivedAt,
    processedAt: inboundMessages.processedAt,
  }).from(inboundMessages)
    .where(and(query.state ? eq(inboundMessages.state, query.state) : undefined, before))
    .orderBy(desc(inboundMessages.receivedAt), desc(inboundMessages.id)).limit(query.limit + 1))
  const page = pageOf(rows, query.limit, r => [r.receivedAt.toISOString(), r.id])
  return {
    data: page.data.map((r): InboundLogEntry => ({ ...r, receivedAt: r.receivedAt.toISOString(), processedAt: r.processedAt?.toISOString() ?? null })),
    meta: page.meta,
  }
}
