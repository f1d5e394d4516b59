import { bulkUpdateSchema } from '#shared/types/bulk'
import { bulkUpdate } from '#server/services/bulk'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

/** `{ ids, set }` → an outcome per id; every change lands in each ticket's history. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const input = await readInput(event, bulkUpdateSchema)
  return { data: await bulkUpdate(principal, input) }
})
