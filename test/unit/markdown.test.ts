import { describe, expect, it } from 'vitest'
import { renderMarkdown } from '../../shared/utils/markdown'

describe('Markdown of replies and descriptions', () => {
  it('renders emphasis, lists, quotes and code', () => {
    const html = renderMarkdown('**bold** and `code`\n\n- one\n- two\n\n> quoted\n\n```\nlet x = 1\n```')
    expect(html).toContain('<strong>bold</strong>')
    expect(html).toContain('<code>code</code>')
    expect(html).toContain('<li>one</li>')
    expect(html).toContain('<blockquote>')
    expect(html).toContain('<pre><code>let x = 1')
  })

  it('keeps raw HTML as text and drops script and event handlers', () => {
    const html = renderMarkdown('<script>alert(1)</script> <img src=x onerror=alert(1)> <b>hi</b>')
    expect(html).not.toContain('<script')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('<b>')
    expect(html).toContain('&lt;script&gt;')
  })

  it('makes links clickable with rel="noopener nofollow ugc" and refuses javascript: links', () => {
    const html = renderMarkdown('See https://example.com/help and [click](javascript:alert(1)) and [ok](https://example.org)')
    expect(html).toContain('<a href="https://example.com/help" rel="noopener nofollow ugc" target="_blank">')
    expect(html).toContain('<a href="https://example.org" rel="noopener nofollow ugc" target="_blank">ok</a>')
    expect(html).not.toContain('href="javascript:')
    expect(html).toContain('[click](javascript:alert(1))')
  })

  it('keeps line breaks of plain text as people typed them', () => {
    expect(renderMarkdown('line one\nline two')).toBe('<p>line one<br />\nline two</p>\n')
  })
})
