import { listAttachments } from '../../../../services/attachments'
import { threadQuerySchema } from '../../../../services/tickets'
import { requirePrincipal } from '../../../../utils/principal'
import { readQueryInput } from '../../../../utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const query = readQueryInput(event, threadQuerySchema())
  return listAttachments(principal, getRouterParam(event, 'id')!, query)
})
