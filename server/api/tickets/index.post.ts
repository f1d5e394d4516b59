import { ticketCreateSchema } from '#shared/types/ticket'
import { createTicket } from '#server/services/tickets'
import { requesterForTicket } from '#server/services/users'
import { requirePrincipal, actorOf } from '#server/utils/principal'
import { rateLimit } from '#server/utils/rate-limit'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  await rateLimit(event, 'tickets', principal.userId)
  const input = await readInput(event, ticketCreateSchema)
  // Staff may open the ticket for a requester (an existing person or a new address).
  const onBehalfOf = input.requester ? await requesterForTicket(actorOf(event, principal), principal, input.requester) : undefined
  setResponseStatus(event, 201)
  return createTicket(principal, input, onBehalfOf)
})
