import { ticketListQuerySchema } from '../../services/ticket-list'
import { listTickets } from '../../services/tickets'
import { useConfig } from '../../utils/config'
import { requirePrincipal } from '../../utils/principal'
import { readQueryInput } from '../../utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const query = readQueryInput(event, ticketListQuerySchema(useConfig().MAX_PAGE_SIZE))
  return listTickets(principal, query)
})
