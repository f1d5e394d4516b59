import { ticketUpdateSchema } from '#shared/types/ticket'
import { updateTicket } from '../../services/tickets'
import { requirePrincipal } from '../../utils/principal'
import { readInput } from '../../utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const patch = await readInput(event, ticketUpdateSchema)
  return updateTicket(principal, getRouterParam(event, 'id')!, patch)
})
