import { revokeShareLink } from '../../../../services/share-links'
import { requirePrincipal } from '../../../../utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await revokeShareLink(event, principal, getRouterParam(event, 'id')!, getRouterParam(event, 'shareId')!)
  setResponseStatus(event, 204)
  return null
})
