import { ticketCreateSchema } from '../../../shared/types/ticket'
import { createTicket } from '../../services/tickets'
import { requirePrincipal } from '../../utils/principal'
import { readInput } from '../../utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const input = await readInput(event, ticketCreateSchema)
  setResponseStatus(event, 201)
  return createTicket(principal, input)
})
