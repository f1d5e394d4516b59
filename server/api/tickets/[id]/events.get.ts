import { listTicketEvents, threadQuerySchema } from '#server/services/tickets'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const query = readQueryInput(event, threadQuerySchema())
  return listTicketEvents(principal, getRouterParam(event, 'id')!, query)
})
