import { revokeShareLink } from '#server/services/share-links'
import { actorOf, requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await revokeShareLink(actorOf(event, principal), principal, getRouterParam(event, 'id')!, getRouterParam(event, 'shareId')!)
  setResponseStatus(event, 204)
  return null
})
