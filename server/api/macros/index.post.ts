import { macroCreateSchema } from '#shared/types/macros'
import { createMacro } from '#server/services/macros'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

/** Admins and managers keep the macros. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'manager' })
  const input = await readInput(event, macroCreateSchema)
  setResponseStatus(event, 201)
  return createMacro(principal.userId, input)
})
