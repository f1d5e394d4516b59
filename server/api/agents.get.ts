import { listAssignableStaff } from '#server/services/users'
import { requirePrincipal } from '#server/utils/principal'

/** The people a ticket can be assigned to, for agents' pickers: staff of the caller's organisations. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'agent' })
  return { data: await listAssignableStaff(principal) }
})
