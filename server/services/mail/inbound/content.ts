import sanitizeHtml from 'sanitize-html'
import TurndownService from 'turndown'
import type { InboundMail } from './parse'

// Markdown emphasis around a header name (an HTML mail turned into Markdown): **From:**
const md = String.raw`[*_]{0,2}`
const headerLine = (names: string) => new RegExp(String.raw`^\s*(>\s*)*${md}(${names})\s*:${md}\s`, 'i')
const fromLine = headerLine('from|von|de|van|da')
const sentLine = headerLine('sent|date|gesendet|datum|envoyé|enviado|verzonden|inviato|to|an|à|para|aan')

/** "On Mon, 30 Nov 2026 at 10:00, Ann <ann@example.com> wrote:" and its translations. */
const attribution = [
  /^\s*(>\s*)*on\b.{0,300}\bwrote\s*:\s*$/i,
  /^\s*(>\s*)*le\b.{0,300}\ba écrit\s*:\s*$/i,
  /^\s*(>\s*)*am\b.{0,300}\bschrieb\b.{0,200}:\s*$/i,
  /^\s*(>\s*)*el\b.{0,300}\bescribió\s*:\s*$/i,
  /^\s*(>\s*)*op\b.{0,300}\bschreef\b.{0,200}:\s*$/i,
  /^\s*(>\s*)*il\b.{0,300}\bha scritto\s*:\s*$/i,
  /^.{0,300}<[^<>\s]+@[^<>\s]+>\s*(wrote|schrieb|a écrit)\s*:\s*$/i,
]
const originalMessage = /^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht)\s*-{2,}\s*$/i
// Outlook's rule above the quoted header: underscores in text, `<hr>` (`* * *`) in Markdown.
const outlookRule = /^\s*([_-]{10,}|(\*\s*){3,})$/
const signature = /^-- ?$/
const mobileSignature = /^\s*(sent from my \w+|get outlook for (ios|android)|von meinem \w+ gesendet|envoyé de mon \w+)\b.{0,80}$/i

/** Where the quoted history of a reply starts (a line index), or -1. */
function quoteStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const joined = `${line} ${lines[i + 1] ?? ''}`
    if (attribution.some(p => p.test(line))) return i
    // Gmail wraps long attributions over two lines.
    if (/^\s*(on|le|am|el)\b/i.test(line) && attribution.some(p => p.test(joined))) return i
    if (originalMessage.test(line)) return i
    // Outlook: "From: … / Sent: … / To: … / Subject: …", often under a rule.
    if (fromLine.test(line) && lines.slice(i + 1, i + 4).some(l => sentLine.test(l))) {
      let above = i - 1
      while (above >= 0 && !lines[above]!.trim()) above--
      return above >= 0 && outlookRule.test(lines[above]!) ? above : i
    }
  }
  return -1
}

/**
 * The new part of a reply: everything before the quoted history, without the signature and
 * without a trailing block of `>` lines. Inline answers between quotes are kept as written.
 */
export function stripQuoted(text: string): string {
  let lines = text.replace(/\r\n?/g, '\n').split('\n')
  const start = quoteStart(lines)
  if (start >= 0) {
    const above = lines.slice(0, start)
    // Bottom-posting (Thunderbird's default): the answer follows the quote.
    lines = above.some(l => l.trim()) ? above : lines.slice(start + 1).filter(l => !/^\s*>/.test(l))
  }
  const sig = lines.findIndex(l => signature.test(l))
  if (sig >= 0) lines = lines.slice(0, sig)
  const mobile = lines.findIndex((l, i) => i >= lines.length - 4 && mobileSignature.test(l))
  if (mobile >= 0) lines = lines.slice(0, mobile)
  while (lines.length && (/^\s*>/.test(lines.at(-1)!) || !lines.at(-1)!.trim())) lines.pop()
  const stripped = lines.join('\n').trim()
  return stripped || text.trim()
}

// Only structure and links survive; scripts, styles, forms, event handlers and remote images
// (tracking pixels) are dropped. Inline images keep their cid: reference for the attachment step.
const sanitizeOptions: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'div', 'span', 'b', 'strong', 'i', 'em', 'u', 's', 'a', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code',
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'td', 'th', 'img'],
  allowedAttributes: { a: ['href'], img: ['src', 'alt'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['cid'] },
  allowProtocolRelative: false,
  exclusiveFilter: frame => frame.tag === 'img' && !frame.attribs.src,
  nonTextTags: ['style', 'script', 'textarea', 'option', 'noscript', 'title', 'head'],
}

const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-', emDelimiter: '_' })

/** HTML from a mail as safe Markdown text: allow-list sanitising first, then conversion. */
export function htmlToMarkdown(html: string): string {
  const clean = sanitizeHtml(html, sanitizeOptions)
  return turndown.turndown(clean).replace(/\u00A0/g, ' ').replace(/\n{3,}/g, '\n\n').trim()
}

export interface MessageText {
  /** The new part, shown as the ticket's body or the reply. */
  body: string
  /** The whole text including quoted history and signature. */
  full: string
}

/** The readable text of a message: the plain part when there is one, else the HTML as Markdown. */
export function messageText(mail: Pick<InboundMail, 'text' | 'html'>): MessageText {
  const full = (mail.text ?? (mail.html ? htmlToMarkdown(mail.html) : '')).replace(/\r\n?/g, '\n').trim()
  return { body: stripQuoted(full), full }
}
