import { readLimitedBody } from '#server/utils/body'
import { useConfig } from '#server/utils/config'

const hasBody = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/**
 * Routes that stream their body under their own limit: file uploads (MAX_UPLOAD_BYTES, counted
 * where they are received) and raw inbound mail (which reads it with readLimitedBody itself).
 */
const streamedRoutes = [/^\/api\/uploads\/[^/]+$/, /^\/api\/tickets\/[^/]+\/attachments\/?$/, /^\/api\/inbound\/email$/]

/**
 * Every other body is read here, counting bytes as they arrive: past MAX_BODY_SIZE_BYTES the
 * answer is 413 whether or not a Content-Length was sent. Handlers then read it as usual (h3
 * finds it on `req.rawBody`).
 */
export default defineEventHandler(async (event) => {
  if (!hasBody.has(event.method)) return
  const path = event.path.split('?')[0]!
  if (streamedRoutes.some(route => route.test(path))) return
  const req = event.node.req as typeof event.node.req & { rawBody?: Buffer }
  const declared = req.headers['content-length']
  if (declared === '0' || (declared === undefined && !req.headers['transfer-encoding'])) return
  req.rawBody = await readLimitedBody(event, useConfig().MAX_BODY_SIZE_BYTES)
})
