import { randomBytes } from 'node:crypto'
import type { H3Event } from 'h3'
import { setResponseHeaders, setResponseStatus } from 'h3'
import { escapeHtml } from '#server/utils/html'

/**
 * What a browser gets when it starts a sign-in (or comes back from one) while the identity
 * provider does not answer: a page of its own, 503, in the app's words, with a link that tries
 * again and comes back to `to`. Plain HTML with no script, so nothing on it can start another
 * sign-in by itself (plugins/api-recovery.client.ts never runs here).
 */
export function signInUnavailablePage(event: H3Event, to: string): string {
  const nonce = randomBytes(16).toString('base64')
  const retry = `/auth/oidc/login?retry=1&redirect=${encodeURIComponent(to)}`
  setResponseStatus(event, 503, 'Service Unavailable')
  setResponseHeaders(event, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Retry-After': '60',
    'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
  })
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in unavailable · Helpdesk</title>
<style nonce="${nonce}">
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f8fafc; color: #0f172a; font-family: system-ui, sans-serif; }
main { max-width: 24rem; margin: 1rem; padding: 1.5rem; border: 1px solid #e2e8f0; border-radius: .75rem; background: #fff; text-align: center; }
.logo { display: inline-grid; place-items: center; width: 3rem; height: 3rem; border-radius: .75rem; background: #2753e0; color: #fff; font-weight: 600; }
h1 { margin: 1rem 0 0; font-size: 1.25rem; }
p { margin: .5rem 0 0; color: #475569; font-size: .875rem; }
a { display: block; margin-top: 1.5rem; padding: .5rem 1rem; border-radius: .375rem; background: #2753e0; color: #fff; font-size: .875rem; font-weight: 500; text-decoration: none; }
a:hover, a:focus { background: #1f42b5; }
</style>
</head>
<body>
<main>
<span class="logo" aria-hidden="true">HD</span>
<h1>Sign-in is unavailable</h1>
<p>The sign-in service is not answering right now. Try again in a minute.</p>
<a href="${escapeHtml(retry)}">Try again</a>
</main>
</body>
</html>
`
}
