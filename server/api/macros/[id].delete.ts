import { deleteMacro } from '#server/services/macros'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'manager' })
  await deleteMacro(getRouterParam(event, 'id')!)
  setResponseStatus(event, 204)
  return null
})
