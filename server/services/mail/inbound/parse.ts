import type { AddressObject, ParsedMail } from 'mailparser'
import { simpleParser } from 'mailparser'

export interface MailAttachment {
  filename: string
  contentType: string
  content: Buffer
  /** Without angle brackets; set for parts an HTML body shows inline (`cid:` images). */
  contentId: string | null
}

/** What processing needs of a message, decoded (charsets, transfer encodings, encoded words). */
export interface InboundMail {
  messageId: string | null
  inReplyTo: string[]
  references: string[]
  from: { address: string, name: string } | null
  /** Every address the message was delivered to: To, Cc, Delivered-To, X-Original-To (lower-case). */
  recipients: string[]
  subject: string
  /** Lower-case header names; the first value of each, unfolded. */
  headers: Map<string, string>
  contentType: string
  text: string | null
  html: string | null
  attachments: MailAttachment[]
}

/** The ids of `<a@b> <c@d>` (also without brackets), in order. */
export function messageIds(value: string | string[] | undefined): string[] {
  const text = Array.isArray(value) ? value.join(' ') : value ?? ''
  const bracketed = [...text.matchAll(/<([^<>\s]+)>/g)].map(m => m[1]!)
  if (bracketed.length) return bracketed
  return text.split(/[\s,]+/).filter(id => id.includes('@'))
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : []
  return list.flatMap(group => group.value.flatMap(a => [a, ...(a.group ?? [])]))
    .map(a => a.address?.toLowerCase()).filter((a): a is string => !!a)
}

function headerMap(mail: ParsedMail): Map<string, string> {
  const headers = new Map<string, string>()
  for (const { key, line } of mail.headerLines) {
    if (!headers.has(key)) headers.set(key, line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim())
  }
  return headers
}

/** The message's first block of lines looks like RFC 5322 headers and names a sender. */
export function looksLikeMessage(raw: Buffer): boolean {
  const head = raw.subarray(0, 64 * 1024).toString('latin1')
  const end = head.search(/\r?\n\r?\n/)
  const block = end < 0 ? head : head.slice(0, end)
  const lines = block.split(/\r?\n/)
  if (!lines.length || !/^[\x21-\x39\x3B-\x7E]+:/.test(lines[0]!)) return false
  return lines.every(l => /^[\x21-\x39\x3B-\x7E]+:/.test(l) || /^[ \t]/.test(l)) && /^from:/im.test(block)
}

export async function parseMessage(raw: Buffer): Promise<InboundMail> {
  const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true })
  const headers = headerMap(mail)
  const from = mail.from?.value[0]
  const deliveredTo = ['delivered-to', 'x-original-to', 'envelope-to'].map(h => headers.get(h)?.replace(/^<|>$/g, '').toLowerCase()).filter((a): a is string => !!a)
  return {
    messageId: messageIds(mail.messageId)[0] ?? null,
    inReplyTo: messageIds(mail.inReplyTo),
    references: messageIds(mail.references),
    from: from?.address ? { address: from.address.toLowerCase(), name: from.name || '' } : null,
    recipients: [...new Set([...addresses(mail.to), ...addresses(mail.cc), ...deliveredTo])],
    subject: (mail.subject ?? '').trim(),
    headers,
    contentType: (headers.get('content-type') ?? 'text/plain').toLowerCase(),
    text: mail.text?.trim() ? mail.text : null,
    html: mail.html || null,
    attachments: mail.attachments.map(a => ({
      filename: a.filename || (a.contentType.startsWith('image/') ? `image.${a.contentType.slice(6).replace(/[^a-z0-9]/g, '') || 'bin'}` : 'attachment'),
      contentType: a.contentType.toLowerCase(),
      content: a.content,
      contentId: a.contentId ? a.contentId.replace(/^<|>$/g, '') : null,
    })),
  }
}
