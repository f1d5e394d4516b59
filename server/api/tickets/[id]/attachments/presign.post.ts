import { presignSchema } from '../../../../../shared/types/attachment'
import { presignUpload } from '../../../../services/attachments'
import { requirePrincipal } from '../../../../utils/principal'
import { attachmentRateLimit, enforceRateLimit } from '../../../../utils/rate-limit'
import { readInput } from '../../../../utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await enforceRateLimit(event, attachmentRateLimit(), principal.userId)
  const input = await readInput(event, presignSchema)
  setResponseStatus(event, 201)
  return presignUpload(principal, getRouterParam(event, 'id')!, input)
})
