import { z } from 'zod'
import { presenceStates, touchPresence } from '#server/services/live/presence'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

const presenceSchema = z.object({ state: z.enum(presenceStates, 'must be viewing, typing or left') })

/** A ticket page's heartbeat: who is viewing or typing; expires after ~30 s without one. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const { state } = await readInput(event, presenceSchema)
  await touchPresence(principal, getRouterParam(event, 'id')!, state)
  setResponseStatus(event, 204)
  return null
})
