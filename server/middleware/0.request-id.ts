import { randomUUID } from 'node:crypto'

const sane = /^[\w.:-]{1,128}$/
const credentials = /(?:^|;\s*)(?:hd_auth|nuxt-oidc-auth)=/

/**
 * Every response carries X-Request-Id: the caller's when it is sane, else a new one. Responses to
 * a request that carries credentials (a session cookie or a token) are never stored by a cache:
 * they are that person's view, pages included. Static assets carry no credentials' data.
 */
export default defineEventHandler((event) => {
  const incoming = getRequestHeader(event, 'x-request-id')
  const id = incoming && sane.test(incoming) ? incoming : randomUUID()
  event.context.requestId = id
  setResponseHeader(event, 'X-Request-Id', id)
  if (event.path.startsWith('/_nuxt/')) return
  if (getRequestHeader(event, 'authorization') || credentials.test(getRequestHeader(event, 'cookie') ?? '')) {
    setResponseHeader(event, 'Cache-Control', 'no-store')
  }
})
