import { servedOverHttps } from '../utils/client-ip'
import { useConfig } from '../utils/config'

/**
 * Headers every response carries. Pages get their own Content-Security-Policy with a per-response
 * nonce (server/plugins/1.content-security-policy.ts); everything else must never run as a page.
 */
export default defineEventHandler((event) => {
  setResponseHeaders(event, {
    'X-Content-Type-Options': 'nosniff',
    // Share links carry their token in the address: never pass it on.
    'Referrer-Policy': event.path.startsWith('/s/') || event.path.startsWith('/api/share/') ? 'no-referrer' : 'same-origin',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    'Content-Security-Policy': 'default-src \'none\'; frame-ancestors \'none\'; base-uri \'none\'; form-action \'none\'',
  })
  if (servedOverHttps(event) || useConfig().PUBLIC_URL?.startsWith('https://')) {
    setResponseHeader(event, 'Strict-Transport-Security', 'max-age=31536000; includeSubDomains')
  }
})
