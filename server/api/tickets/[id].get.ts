import { getTicket } from '../../services/tickets'
import { requirePrincipal } from '../../utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  return getTicket(principal, getRouterParam(event, 'id')!)
})
