import { uploadDirect } from '#server/services/attachments'
import { requirePrincipal } from '#server/utils/principal'
import { rateLimit } from '#server/utils/rate-limit'

/** Direct upload for API clients and the local store: multipart/form-data, field `file`, streamed to storage. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await rateLimit(event, 'attachments', principal.userId)
  const attachment = await uploadDirect(principal, getRouterParam(event, 'id')!, event.node.req)
  setResponseStatus(event, 201)
  return attachment
})
