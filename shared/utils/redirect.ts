/**
 * Where to go after sign-in: `value` resolved as a URL against `base` (PUBLIC_URL on the server,
 * the page's own origin in the browser). Only the same origin counts, and only its path, query
 * and hash are kept, so characters browsers drop (tabs, newlines, backslashes) cannot turn the
 * value into another host. Anything else, including malformed escapes, falls back to `/`.
 */
export function safeRedirect(value: unknown, base = 'http://helpdesk.invalid'): string {
  if (typeof value !== 'string' || !value) return '/'
  try {
    const origin = new URL(base).origin
    const url = new URL(value, origin)
    if (url.origin !== origin) return '/'
    const target = `${url.pathname}${url.search}${url.hash}`
    decodeURI(target)
    return target.startsWith('/') && !target.startsWith('//') ? target : '/'
  }
  catch {
    return '/'
  }
}
