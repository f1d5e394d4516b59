import { ticketCreateSchema } from '#shared/types/ticket'
import { createTicket } from '../../services/tickets'
import { requirePrincipal } from '../../utils/principal'
import { rateLimit } from '../../utils/rate-limit'
import { readInput } from '../../utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await rateLimit(event, 'tickets', principal.userId)
  const input = await readInput(event, ticketCreateSchema)
  setResponseStatus(event, 201)
  return createTicket(principal, input)
})
