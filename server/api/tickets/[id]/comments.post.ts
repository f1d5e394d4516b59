import { commentCreateSchema } from '#shared/types/ticket'
import { addComment } from '#server/services/comments'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

/** 201 with the reply; 409 `{ newer }` (nothing posted) when others replied since `seenUpTo`, unless `confirm`. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const input = await readInput(event, commentCreateSchema)
  const result = await addComment(principal, getRouterParam(event, 'id')!, input)
  setResponseStatus(event, 'newer' in result ? 409 : 201)
  return result
})
