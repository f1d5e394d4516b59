import { completeUpload } from '#server/services/attachments'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  return completeUpload(principal, getRouterParam(event, 'id')!, getRouterParam(event, 'attId')!)
})
