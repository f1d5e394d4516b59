import { createShareLink, shareCreateSchema } from '#server/services/share-links'
import { actorOf, requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const input = await readInput(event, shareCreateSchema)
  setResponseStatus(event, 201)
  return createShareLink(actorOf(event, principal), principal, getRouterParam(event, 'id')!, input)
})
