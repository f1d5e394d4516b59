import { randomBytes, timingSafeEqual } from 'node:crypto'
import { publicUrl, useConfig } from '../../utils/config'
import { sign, verifySigned } from '../../utils/settings-key'

/** The bare address inside `Name <addr@host>` (or the string itself), lower-cased. */
export function bareAddress(value: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(value)
  return (angle ? angle[1]! : value).trim().toLowerCase()
}

/** The sender: MAIL_FROM, or a placeholder on our domain while no relay is configured. */
export function mailFrom(): string {
  return useConfig().MAIL_FROM ?? `Helpdesk <helpdesk@${mailDomain()}>`
}

/** Our domain for Message-IDs: MAIL_FROM's, else PUBLIC_URL's host. */
export function mailDomain(): string {
  const config = useConfig()
  if (config.MAIL_FROM) return bareAddress(config.MAIL_FROM).split('@')[1]!
  return new URL(publicUrl(config)).hostname || 'helpdesk.invalid'
}

/** A new Message-ID in our domain, without angle brackets. */
export function newMessageId(): string {
  return `${Date.now().toString(36)}.${randomBytes(9).toString('base64url')}@${mailDomain()}`
}

// --- Reply-To plus-token: <local>+<ticket number>-<signature>@<domain> ---------------------

const replyPurpose = 'mail-reply-token'

// Hex, lower case: mail systems may change the case of the local part. 80 bits: not guessable.
async function replySignature(ticketNumber: number): Promise<string> {
  return Buffer.from(await sign(replyPurpose, String(ticketNumber)), 'base64url').toString('hex').slice(0, 20)
}

/** The signed token naming a ticket, as used in the Reply-To address. */
export async function signReplyToken(ticketNumber: number): Promise<string> {
  return `${ticketNumber}-${await replySignature(ticketNumber)}`
}

/** The ticket number a token names, or null when it is not one of ours (or was tampered with). */
export async function verifyReplyToken(token: string): Promise<number | null> {
  const match = /^(\d{1,9})-([0-9a-f]{20})$/.exec(token.trim().toLowerCase())
  if (!match) return null
  const number = Number(match[1])
  return timingSafeEqual(Buffer.from(await replySignature(number)), Buffer.from(match[2]!)) ? number : null
}

/** The mailbox replies go to: MAIL_REPLY_TO, else the sender's address. */
function replyMailbox(): string {
  return useConfig().MAIL_REPLY_TO ?? bareAddress(mailFrom())
}

/** `support+1042-<signature>@example.com` for a ticket. */
export async function replyAddress(ticketNumber: number): Promise<string> {
  const [local, domain] = replyMailbox().split('@') as [string, string]
  return `${local.split('+')[0]}+${await signReplyToken(ticketNumber)}@${domain}`
}

/** For inbound mail: the ticket number an address of ours carries in its plus-token, else null. */
export async function ticketNumberFromAddress(address: string): Promise<number | null> {
  const [local, domain] = bareAddress(address).split('@')
  const [ownLocal, ownDomain] = replyMailbox().toLowerCase().split('@') as [string, string]
  if (!local || domain !== ownDomain) return null
  const plus = local.indexOf('+')
  if (plus < 0 || local.slice(0, plus) !== ownLocal.split('+')[0]) return null
  return verifyReplyToken(local.slice(plus + 1))
}

// --- One-click unsubscribe (RFC 8058) ---------------------------------------------------------

const unsubscribePurpose = 'mail-unsubscribe'

export async function unsubscribeToken(userId: string): Promise<string> {
  return `${userId}.${await sign(unsubscribePurpose, userId)}`
}

/** The user an unsubscribe token names, or null. */
export async function verifyUnsubscribeToken(token: string): Promise<string | null> {
  const [userId, signature] = token.split('.')
  if (!userId || !signature || !/^[0-9a-f-]{36}$/.test(userId)) return null
  return (await verifySigned(unsubscribePurpose, userId, signature)) ? userId : null
}

export async function unsubscribeUrls(userId: string): Promise<{ oneClick: string, page: string }> {
  const token = await unsubscribeToken(userId)
  const base = publicUrl(useConfig())
  return { oneClick: `${base}/api/mail/unsubscribe/${token}`, page: `${base}/unsubscribe/${token}` }
}
