import { deleteView } from '#server/services/views'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await deleteView(principal, getRouterParam(event, 'id')!)
  setResponseStatus(event, 204)
  return null
})
