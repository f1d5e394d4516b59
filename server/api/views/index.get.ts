import { listViews } from '#server/services/views'
import { requirePrincipal } from '#server/utils/principal'

/** The caller's personal views and the shared ones. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  return { data: await listViews(principal) }
})
