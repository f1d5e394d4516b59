import { listTicketEvents, threadQuerySchema } from '../../../services/tickets'
import { requirePrincipal } from '../../../utils/principal'
import { readQueryInput } from '../../../utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const query = readQueryInput(event, threadQuerySchema())
  return listTicketEvents(principal, getRouterParam(event, 'id')!, query)
})
