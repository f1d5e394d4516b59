import { uploadDirect } from '../../../../services/attachments'
import { requirePrincipal } from '../../../../utils/principal'
import { attachmentRateLimit, enforceRateLimit } from '../../../../utils/rate-limit'

/** Direct upload for API clients and the local store: multipart/form-data, field `file`, streamed to storage. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await enforceRateLimit(event, attachmentRateLimit(), principal.userId)
  const attachment = await uploadDirect(principal, getRouterParam(event, 'id')!, event.node.req)
  setResponseStatus(event, 201)
  return attachment
})
