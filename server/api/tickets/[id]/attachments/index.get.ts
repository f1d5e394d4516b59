import { listAttachments } from '#server/services/attachments'
import { threadQuerySchema } from '#server/services/tickets'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const query = readQueryInput(event, threadQuerySchema())
  return listAttachments(principal, getRouterParam(event, 'id')!, query)
})
