import { listComments } from '#server/services/comments'
import { threadQuerySchema } from '#server/services/tickets'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const query = readQueryInput(event, threadQuerySchema())
  return listComments(principal, getRouterParam(event, 'id')!, query)
})
