import type { InboundMail } from './parse'

/** The system's own mail identity: the addresses it sends from and the domain of its Message-IDs. */
export interface OwnIdentity {
  addresses: string[]
  messageIdDomains: string[]
}

export type Classification
  = | { kind: 'own', reason: string }
    | { kind: 'bounce', failedRecipients: string[], originalMessageIds: string[] }
    | { kind: 'auto-reply', reason: string }
    | { kind: 'message' }

/** `local+anything@domain` → `local@domain`: plus-addressed variants of one mailbox are the same mailbox. */
export function baseAddress(address: string): string {
  const at = address.lastIndexOf('@')
  if (at < 0) return address.toLowerCase()
  return `${address.slice(0, at).split('+')[0]}${address.slice(at)}`.toLowerCase()
}

const domainOf = (id: string) => id.slice(id.lastIndexOf('@') + 1).toLowerCase()

// Subjects of out-of-office and acknowledgement mails from clients that set no header (last resort).
const autoReplySubjects = [
  /^(automatic reply|auto(matic)?[- ]?reply|autoreply|auto-response|out of (the )?office|abwesenheitsnotiz|réponse automatique|respuesta automática|automatisch antwoord)\b/i,
  /^(out of office|ooo)\s*:/i,
  /\b(is|am) out of (the )?office\b/i,
]

/** Why a message is an automatic one (RFC 3834 and the headers vendors use), or null. */
export function autoReplyReason(mail: InboundMail): string | null {
  const header = (name: string) => mail.headers.get(name)?.toLowerCase()
  const autoSubmitted = header('auto-submitted')
  if (autoSubmitted && autoSubmitted.split(';')[0]!.trim() !== 'no') return `Auto-Submitted: ${autoSubmitted}`
  if (mail.headers.has('x-autoreply')) return 'X-Autoreply'
  if (mail.headers.has('x-autorespond')) return 'X-Autorespond'
  const precedence = header('precedence')
  if (precedence && ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`
  if (autoReplySubjects.some(pattern => pattern.test(mail.subject))) return 'out-of-office subject'
  return null
}

/**
 * The failed recipients of a delivery status notification (RFC 3464): each per-recipient block
 * of the `message/delivery-status` part names a `Final-Recipient` and an `Action`.
 */
export function failedRecipients(raw: Buffer): string[] {
  const text = raw.toString('latin1').replace(/\r\n/g, '\n')
  const part = /content-type:\s*message\/delivery-status[^\n]*(?:\n[ \t][^\n]*)*\n(?:[^\n]+\n)*\n([\s\S]*?)(?:\n--|$)/i.exec(text)
  if (!part) return []
  const failed = new Set<string>()
  for (const block of part[1]!.split(/\n\s*\n/)) {
    const recipient = /^final-recipient:\s*rfc822\s*;\s*<?([^\s>]+@[^\s>]+)>?/im.exec(block)?.[1]
    const action = /^action:\s*(\w+)/im.exec(block)?.[1]?.toLowerCase()
    if (recipient && action === 'failed') failed.add(recipient.toLowerCase())
  }
  return [...failed]
}

/** The Message-IDs of the returned message's headers inside a report (to find its ticket). */
function reportedMessageIds(raw: Buffer, own: string | null): string[] {
  const text = raw.toString('latin1')
  return [...text.matchAll(/^message-id:\s*<([^<>\s]+)>/gim)].map(m => m[1]!).filter(id => id !== own)
}

/**
 * What kind of message this is, checked in the order that keeps loops impossible: our own
 * mail coming back, delivery reports, automatic replies, then people.
 */
export function classify(mail: InboundMail, raw: Buffer, own: OwnIdentity): Classification {
  const ownAddresses = new Set(own.addresses.map(baseAddress))
  if (mail.from && ownAddresses.has(baseAddress(mail.from.address))) return { kind: 'own', reason: `sent from our own address ${mail.from.address}` }
  if (mail.messageId && own.messageIdDomains.includes(domainOf(mail.messageId))) return { kind: 'own', reason: `Message-ID in our own domain (${domainOf(mail.messageId)})` }
  if (/^multipart\/report\b/.test(mail.contentType) && /report-type\s*=\s*"?delivery-status/.test(mail.contentType)) {
    return { kind: 'bounce', failedRecipients: failedRecipients(raw), originalMessageIds: reportedMessageIds(raw, mail.messageId) }
  }
  const reason = autoReplyReason(mail)
  if (reason) return { kind: 'auto-reply', reason }
  return { kind: 'message' }
}
