import type { H3Event } from 'h3'
import { servedOverHttps } from '../utils/client-ip'
import { useConfig } from '../utils/config'

const unsafe = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const allowedHeaders = 'Authorization, Content-Type, X-Requested-With'
const allowedMethods = 'GET, POST, PATCH, PUT, DELETE'
// The IdP posts back to the callback itself; state and PKCE protect it.
const csrfExempt = new Set(['/auth/oidc/callback'])

/** Our own origin (PUBLIC_URL, or where the request was sent when it is unset) and ALLOWED_ORIGINS. */
function isAllowedOrigin(event: H3Event, origin: string): boolean {
  const config = useConfig()
  const own = config.PUBLIC_URL
    ? new URL(config.PUBLIC_URL).origin
    : `${servedOverHttps(event) ? 'https' : 'http'}://${getRequestHeader(event, 'host')}`
  if (origin === own || config.ALLOWED_ORIGINS.includes(origin)) return true
  return !config.production && config.ALLOWED_ORIGINS.includes('*')
}

const forbidden = (message: string) => createError({ statusCode: 403, statusMessage: 'Forbidden', message })

/**
 * CORS for the API: exact origins from ALLOWED_ORIGINS only, and `Vary: Origin` so caches keep
 * answers apart. CSRF: a state-changing request that a browser could send with our cookies must
 * prove it comes from an allowed origin; bearer-token calls carry no ambient credentials.
 */
export default defineEventHandler((event) => {
  const origin = getRequestHeader(event, 'origin')
  const api = event.path.startsWith('/api/')

  if (api) {
    appendResponseHeader(event, 'Vary', 'Origin')
    const allowed = !!origin && isAllowedOrigin(event, origin)
    if (allowed) {
      setResponseHeaders(event, { 'Access-Control-Allow-Origin': origin!, 'Access-Control-Allow-Credentials': 'true' })
    }
    if (event.method === 'OPTIONS' && getRequestHeader(event, 'access-control-request-method')) {
      if (!allowed) throw forbidden('This origin may not call the API.')
      setResponseHeaders(event, {
        'Access-Control-Allow-Methods': allowedMethods,
        'Access-Control-Allow-Headers': allowedHeaders,
        'Access-Control-Max-Age': '600',
      })
      return sendNoContent(event, 204)
    }
  }

  if (!unsafe.has(event.method) || csrfExempt.has(event.path.split('?')[0]!)) return
  if (/^bearer /i.test(getRequestHeader(event, 'authorization') ?? '')) return
  const site = getRequestHeader(event, 'sec-fetch-site')
  const hasCookies = !!getRequestHeader(event, 'cookie')
  if (origin && origin !== 'null') {
    if (!isAllowedOrigin(event, origin)) throw forbidden('Cross-site requests are not allowed.')
    return
  }
  if (site) {
    if (site !== 'same-origin' && site !== 'none') throw forbidden('Cross-site requests are not allowed.')
    return
  }
  // Browsers always name the origin of a POST; a cookie-carrying request without it is not ours.
  if (hasCookies || origin === 'null') throw forbidden('Cross-site requests are not allowed.')
})
