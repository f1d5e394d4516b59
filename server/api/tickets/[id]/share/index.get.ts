import { listShareLinks } from '../../../../services/share-links'
import { requirePrincipal } from '../../../../utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'agent' })
  return { data: await listShareLinks(principal, getRouterParam(event, 'id')!) }
})
