import { presignSchema } from '#shared/types/attachment'
import { presignUpload } from '#server/services/attachments'
import { requirePrincipal } from '#server/utils/principal'
import { rateLimit } from '#server/utils/rate-limit'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await rateLimit(event, 'attachments', principal.userId)
  const input = await readInput(event, presignSchema)
  setResponseStatus(event, 201)
  return presignUpload(principal, getRouterParam(event, 'id')!, input)
})
