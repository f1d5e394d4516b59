import type { InboundMail } from './parse'

/** What a message says about the ticket it continues, in the order it is believed. */
export interface ThreadHints {
  /** In-Reply-To first, then References from the newest back. */
  messageIds: string[]
  /** Plus-addressed recipients (`<local>+<token>@<domain>`): maybe our Reply-To with a signed token. */
  plusAddresses: string[]
  /** `[#1042]` in the subject. */
  number: number | null
}

export function threadHints(mail: InboundMail): ThreadHints {
  const number = /\[#(\d{1,9})\]/.exec(mail.subject)?.[1]
  return {
    messageIds: [...new Set([...mail.inReplyTo, ...[...mail.references].reverse()])],
    plusAddresses: mail.recipients.filter(address => address.split('@')[0]!.includes('+')),
    number: number ? Number(number) : null,
  }
}

/** The ticket lookups threading needs; the outgoing side owns our Message-IDs and reply tokens. */
export interface ThreadLookups {
  ticketForMessageIds(ids: string[]): Promise<string | null>
  /** The ticket our signed Reply-To address names, else null (not ours, or tampered with). */
  ticketForReplyAddress(address: string): Promise<string | null>
  ticketForNumber(number: number): Promise<string | null>
  /** The sender is the ticket's requester, or someone (staff, an organisation's member) who may see it. */
  senderMaySee(ticketId: string): Promise<boolean>
}

export type ThreadMatch = { ticketId: string, via: 'message-id' | 'token' | 'number' } | { ticketId: null, reason: string | null }

/**
 * The order: one of our Message-IDs in In-Reply-To/References, then the signed
 * plus-token, then `[#n]` in the subject. Whatever matches, the sender must be allowed to see the
 * ticket, so nobody adds to someone else's ticket by guessing a number (or by being forwarded a
 * mail): otherwise the message opens a new ticket.
 */
export async function findThread(hints: ThreadHints, lookups: ThreadLookups): Promise<ThreadMatch> {
  const candidates: { via: 'message-id' | 'token' | 'number', find: () => Promise<string | null> }[] = [
    { via: 'message-id', find: () => hints.messageIds.length ? lookups.ticketForMessageIds(hints.messageIds) : Promise.resolve(null) },
    ...hints.plusAddresses.map(address => ({ via: 'token' as const, find: () => lookups.ticketForReplyAddress(address) })),
    { via: 'number', find: () => hints.number === null ? Promise.resolve(null) : lookups.ticketForNumber(hints.number) },
  ]
  let refused: string | null = null
  for (const candidate of candidates) {
    const ticketId = await candidate.find()
    if (!ticketId) continue
    if (await lookups.senderMaySee(ticketId)) return { ticketId, via: candidate.via }
    refused ??= `the sender may not add to the ticket named by its ${candidate.via}`
  }
  return { ticketId: null, reason: refused }
}
