import { revokeShareLink } from '#server/services/share-links'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await revokeShareLink(event, principal, getRouterParam(event, 'id')!, getRouterParam(event, 'shareId')!)
  setResponseStatus(event, 204)
  return null
})
