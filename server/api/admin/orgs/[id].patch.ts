import { z } from 'zod'
import { orgUpdateSchema } from '#shared/types/org'
import { updateOrg } from '#server/services/orgs'
import { requirePrincipal, actorOf } from '#server/utils/principal'
import { readInput, readParamsInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.uuid() }))
  const patch = await readInput(event, orgUpdateSchema)
  return updateOrg(actorOf(event, admin), admin, id, patch)
})
