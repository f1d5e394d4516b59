import MarkdownIt from 'markdown-it'
import sanitizeHtml from 'sanitize-html'

// Raw HTML in the text stays text (html: false); the allow-list below is the second guard.
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true })

const allowed: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'strong', 'em', 'del', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  allowedAttributes: { a: ['href', 'rel', 'target'], ol: ['start'], th: ['style'], td: ['style'] },
  allowedStyles: { '*': { 'text-align': [/^(left|right|center)$/] } },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  // Links written by customers and agents: never pass on the page's standing, never give the new tab our window.
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener nofollow ugc', target: '_blank' }) },
}

/** Markdown of a reply or a ticket's description as safe HTML (links, code, lists, quotes; never raw HTML). */
export function renderMarkdown(text: string): string {
  return sanitizeHtml(markdown.render(text), allowed)
}
