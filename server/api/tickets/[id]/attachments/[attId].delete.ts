import { deleteAttachment } from '#server/services/attachments'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await deleteAttachment(principal, getRouterParam(event, 'id')!, getRouterParam(event, 'attId')!)
  setResponseStatus(event, 204)
  return null
})
