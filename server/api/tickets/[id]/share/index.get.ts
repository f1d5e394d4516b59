import { listShareLinks } from '#server/services/share-links'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'agent' })
  return { data: await listShareLinks(principal, getRouterParam(event, 'id')!) }
})
