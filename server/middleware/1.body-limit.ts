import { useConfig } from '../utils/config'

const hasBody = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
// File uploads stream into storage under MAX_UPLOAD_BYTES, checked where they are received;
// inbound mail under MAIL_INBOUND_MAX_BYTES.
const uploadRoutes = [/^\/api\/uploads\/[^/]+$/, /^\/api\/tickets\/[^/]+\/attachments\/?$/, /^\/api\/inbound\/email$/]

/** JSON bodies above MAX_BODY_SIZE_BYTES are refused before anything reads them. */
export default defineEventHandler((event) => {
  if (!hasBody.has(event.method) || !event.path.startsWith('/api/')) return
  const path = event.path.split('?')[0]!
  if (uploadRoutes.some(route => route.test(path))) return
  const { MAX_BODY_SIZE_BYTES } = useConfig()
  const length = Number(getRequestHeader(event, 'content-length') ?? 0)
  if (length > MAX_BODY_SIZE_BYTES) {
    throw createError({ statusCode: 413, statusMessage: 'Payload Too Large', message: `The request body is larger than ${MAX_BODY_SIZE_BYTES} bytes.` })
  }
})
