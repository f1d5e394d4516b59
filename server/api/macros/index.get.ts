import { listMacros } from '#server/services/macros'
import { requirePrincipal } from '#server/utils/principal'

/** Canned replies, for the reply box of agents and above. */
export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'agent' })
  return { data: await listMacros() }
})
