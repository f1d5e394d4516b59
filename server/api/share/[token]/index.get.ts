import { readSharedTicket } from '#server/services/share-links'

/** The data behind the public page /s/:token; anyone holding a valid link may read it. */
export default defineEventHandler(async (event) => {
  setResponseHeaders(event, { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' })
  return readSharedTicket(event, getRouterParam(event, 'token')!)
})
