import { createShareLink, shareCreateSchema } from '#server/services/share-links'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const input = await readInput(event, shareCreateSchema)
  setResponseStatus(event, 201)
  return createShareLink(event, principal, getRouterParam(event, 'id')!, input)
})
