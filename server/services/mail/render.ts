import type { MailContent } from '#shared/types/mail'
import { formatBytes } from '#shared/utils/bytes'
import { escapeHtml } from '#server/utils/html'

/** Marks where a reply by mail should end; the inbound side cuts everything below it. */
export const replyAboveLine = '##- Please type your reply above this line -##'

/** A quoted text as HTML paragraphs: escaped, line breaks kept. */
function paragraphs(text: string, style: string): string {
  return text.split(/\n{2,}/).map(p => `<p style="${style}">${escapeHtml(p).replace(/\n/g, '<br>')}</p>`).join('')
}

const font = 'font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#0f172a'

/**
 * Our one template, as plain text and as HTML. Everything that comes from people (titles,
 * replies, names, file names) is escaped; the HTML has no scripts, no remote images, no styles
 * beyond inline ones.
 */
export function renderMail(content: MailContent): { text: string, html: string } {
  const text: string[] = []
  const html: string[] = []
  if (content.replyable) {
    text.push(replyAboveLine, '')
    html.push(`<p style="color:#94a3b8;font-size:12px;margin:0 0 16px">${escapeHtml(replyAboveLine)}</p>`)
  }
  text.push(content.intro, '')
  html.push(`<p style="margin:0 0 16px">${escapeHtml(content.intro)}</p>`)
  if (content.quote) {
    text.push(`${content.quote.author}:`, '', ...content.quote.text.split('\n').map(l => `  ${l}`), '')
    html.push(`<div style="border-left:3px solid #cbd5e1;padding:4px 0 4px 12px;margin:0 0 16px"><p style="margin:0 0 8px;font-weight:600">${escapeHtml(content.quote.author)}</p>${paragraphs(content.quote.text, 'margin:0 0 8px')}</div>`)
  }
  if (content.files?.length) {
    text.push('Attachments:', ...content.files.map(f => `- ${f.name} (${formatBytes(f.size)})`), '')
    html.push(`<p style="margin:0 0 4px;font-weight:600">Attachments</p><ul style="margin:0 0 16px;padding-left:20px">${content.files.map(f => `<li>${escapeHtml(f.name)} (${formatBytes(f.size)})</li>`).join('')}</ul>`)
  }
  for (const line of content.lines ?? []) {
    text.push(line, '')
    html.push(`<p style="margin:0 0 16px">${escapeHtml(line)}</p>`)
  }
  if (content.action) {
    text.push(`${content.action.label}: ${content.action.url}`, '')
    html.push(`<p style="margin:0 0 24px"><a href="${escapeHtml(content.action.url)}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;padding:8px 16px;border-radius:6px">${escapeHtml(content.action.label)}</a></p>`)
  }
  text.push('-- ', content.footer)
  html.push(`<p style="margin:24px 0 0;padding-top:12px;border-top:1px solid #e2e8f0;color:#64748b;font-size:12px">${escapeHtml(content.footer)}</p>`)
  return {
    text: `${text.join('\n')}\n`,
    html: `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head><body style="margin:0;padding:24px;background:#ffffff"><div style="${font};max-width:600px">${html.join('')}</div></body></html>`,
  }
}
