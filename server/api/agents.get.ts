import { listAssignableStaff } from '../services/users'
import { requirePrincipal } from '../utils/principal'

/** The people a ticket can be assigned to, for agents' pickers. */
export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'agent' })
  return { data: await listAssignableStaff() }
})
