import { viewUpdateSchema } from '#shared/types/views'
import { updateView } from '#server/services/views'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const patch = await readInput(event, viewUpdateSchema)
  return updateView(principal, getRouterParam(event, 'id')!, patch)
})
