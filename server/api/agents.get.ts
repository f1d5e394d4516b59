import { z } from 'zod'
import { assigneesFor } from '#server/services/assignees'
import { listAssignableStaff } from '#server/services/users'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

const query = z.object({ ticket: z.string().trim().min(1).max(64).optional() })

/** The people a ticket can be assigned to, for agents' pickers (staff of the caller's organisations); with `?ticket=` only whom the caller may give it to. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'agent' })
  const { ticket } = readQueryInput(event, query)
  return { data: ticket ? await assigneesFor(principal, ticket) : await listAssignableStaff(principal) }
})
