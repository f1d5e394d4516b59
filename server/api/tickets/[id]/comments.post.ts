import { commentCreateSchema } from '#shared/types/ticket'
import { addComment } from '#server/services/comments'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const input = await readInput(event, commentCreateSchema)
  setResponseStatus(event, 201)
  return addComment(principal, getRouterParam(event, 'id')!, input)
})
