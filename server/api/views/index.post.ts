import { viewCreateSchema } from '#shared/types/views'
import { createView } from '#server/services/views'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const input = await readInput(event, viewCreateSchema)
  setResponseStatus(event, 201)
  return createView(principal, input)
})
