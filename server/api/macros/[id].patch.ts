import { macroUpdateSchema } from '#shared/types/macros'
import { updateMacro } from '#server/services/macros'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'manager' })
  const patch = await readInput(event, macroUpdateSchema)
  return updateMacro(getRouterParam(event, 'id')!, patch)
})
