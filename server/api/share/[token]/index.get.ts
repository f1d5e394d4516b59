import { readSharedTicket } from '#server/services/share-links'
import { actorOf } from '#server/utils/principal'

/** The data behind the public page /s/:token; anyone holding a valid link may read it. */
export default defineEventHandler(async (event) => {
  setResponseHeaders(event, { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' })
  return readSharedTicket(actorOf(event), getRouterParam(event, 'token')!)
})
