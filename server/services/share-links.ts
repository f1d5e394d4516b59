import { createHash, randomBytes } from 'node:crypto'
import { and, asc, desc, eq, gt, isNull } from 'drizzle-orm'
import { createError } from 'h3'
import { z } from 'zod'
import { isStaff } from '../../shared/utils/roles'
import { comments, shareLinks, tickets, users } from '../db/schema'
import { publicUrl, useConfig } from '../utils/config'
import type { Database } from '../db/client'
import type { Actor, Principal } from '../utils/principal'
import { audit } from './audit'
import { openFile, sharedAttachments } from './attachments'
import { toPrincipal } from './auth/resolve'
import { visibleTicketId } from './tickets'
import { findUserWithOrgs } from './users'
import { asPrincipal, asSystem, ticketVisibility } from './visibility'

export const shareCreateSchema = z.object({
  expiresInDays: z.number().int().min(1).max(90).default(7),
})

const hash = (token: string) => createHash('sha256').update(token).digest('hex')
const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'This link does not exist or has expired.' })

/** Agents and above share a read-only view of a ticket they can see; the token is shown once. */
export async function createShareLink(actor: Actor, principal: Principal, id: string, input: z.infer<typeof shareCreateSchema>) {
  const token = randomBytes(32).toString('base64url')
  const expiresAt = new Date(Date.now() + input.expiresInDays * 86_400_000)
  const link = await asPrincipal(principal, async (tx) => {
    const ticketId = await visibleTicketId(tx, principal, id)
    if (!isStaff(principal.roles)) throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only agents can share tickets.' })
    const [row] = await tx.insert(shareLinks).values({ ticketId, tokenHash: hash(token), createdBy: principal.userId, expiresAt }).returning({ id: shareLinks.id })
    return { id: row!.id, ticketId }
  })
  await audit(actor, { action: 'share_link_created', target: { type: 'ticket', id: link.ticketId }, details: { shareId: link.id, expiresAt } })
  return { id: link.id, url: `${publicUrl(useConfig())}/s/${token}`, expiresAt: expiresAt.toISOString() }
}

export async function listShareLinks(principal: Principal, id: string) {
  return asPrincipal(principal, async (tx) => {
    const ticketId = await visibleTicketId(tx, principal, id)
    const rows = await tx.select({ id: shareLinks.id, expiresAt: shareLinks.expiresAt, createdAt: shareLinks.createdAt, createdBy: { id: users.id, name: users.name } })
      .from(shareLinks).innerJoin(users, eq(users.id, shareLinks.createdBy))
      .where(and(eq(shareLinks.ticketId, ticketId), isNull(shareLinks.revokedAt), gt(shareLinks.expiresAt, new Date())))
      .orderBy(desc(shareLinks.createdAt))
    return rows.map(r => ({ ...r, expiresAt: r.expiresAt.toISOString(), createdAt: r.createdAt.toISOString() }))
  })
}

export async function revokeShareLink(actor: Actor, principal: Principal, id: string, shareId: string): Promise<void> {
  if (!z.uuid().safeParse(shareId).success) throw notFound()
  const revoked = await asPrincipal(principal, async (tx) => {
    const ticketId = await visibleTicketId(tx, principal, id)
    if (!isStaff(principal.roles)) throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only agents can revoke share links.' })
    return tx.update(shareLinks).set({ revokedAt: new Date() })
      .where(and(eq(shareLinks.id, shareId), eq(shareLinks.ticketId, ticketId), isNull(shareLinks.revokedAt)))
      .returning({ ticketId: shareLinks.ticketId })
  })
  if (!revoked.length) throw notFound()
  await audit(actor, { action: 'share_link_revoked', target: { type: 'ticket', id: revoked[0]!.ticketId }, details: { shareId } })
}

/**
 * The link a token names while it is valid: not revoked, not expired, and its creator could still
 * share the ticket today (active, staff, and the ticket visible to them under the one rule).
 */
async function validLink(tx: Database, token: string) {
  if (!/^[\w-]{20,100}$/.test(token)) return undefined
  const [link] = await tx.select({ id: shareLinks.id, ticketId: shareLinks.ticketId, expiresAt: shareLinks.expiresAt, createdBy: shareLinks.createdBy }).from(shareLinks)
    .where(and(eq(shareLinks.tokenHash, hash(token)), isNull(shareLinks.revokedAt), gt(shareLinks.expiresAt, new Date())))
  if (!link) return undefined
  const creator = await findUserWithOrgs(link.createdBy)
  if (!creator?.active || !isStaff(creator.roles)) return undefined
  const [visible] = await tx.select({ id: tickets.id }).from(tickets).where(and(eq(tickets.id, link.ticketId), ticketVisibility(toPrincipal(creator, 'local'))))
  return visible ? link : undefined
}

/** What a share link shows: the ticket, its public replies and their files — never internal notes. 404 once revoked or expired. */
export async function readSharedTicket(actor: Actor, token: string) {
  const shared = await asSystem(async (tx) => {
    const link = await validLink(tx, token)
    if (!link) return null
    const [ticket] = await tx.select({ number: tickets.number, title: tickets.title, body: tickets.body, status: tickets.status, createdAt: tickets.createdAt })
      .from(tickets).where(eq(tickets.id, link.ticketId))
    const thread = await tx.select({ id: comments.id, body: comments.body, author: users.name, createdAt: comments.createdAt })
      .from(comments).innerJoin(users, eq(users.id, comments.authorId))
      .where(and(eq(comments.ticketId, link.ticketId), eq(comments.internal, false))).orderBy(asc(comments.seq))
    const files = await sharedAttachments(tx, link.ticketId)
    return { link, ticket: ticket!, thread, files }
  })
  if (!shared) throw notFound()
  await audit(actor, { action: 'share_link_used', target: { type: 'ticket', id: shared.link.ticketId }, details: { shareId: shared.link.id } })
  return {
    ticket: { ...shared.ticket, createdAt: shared.ticket.createdAt.toISOString() },
    comments: shared.thread.map(c => ({ ...c, createdAt: c.createdAt.toISOString() })),
    attachments: shared.files.map(f => ({ id: f.id, filename: f.filename, size: f.size, contentType: f.contentType, commentId: f.commentId })),
    expiresAt: shared.link.expiresAt.toISOString(),
  }
}

/** A file of a shared ticket, downloadable through the link while it is valid. */
export async function openSharedAttachment(actor: Actor, token: string, attId: string) {
  if (!z.uuid().safeParse(attId).success) throw notFound()
  const found = await asSystem(async (tx) => {
    const link = await validLink(tx, token)
    const [file] = link ? await sharedAttachments(tx, link.ticketId, attId) : []
    return link && file ? { link, file } : null
  })
  if (!found) throw notFound()
  await audit(actor, { action: 'share_link_used', target: { type: 'ticket', id: found.link.ticketId }, details: { shareId: found.link.id, attachmentId: attId } })
  return openFile(found.file)
}
