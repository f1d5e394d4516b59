import { orgCreateSchema } from '#shared/types/org'
import { createOrg } from '#server/services/orgs'
import { requirePrincipal, actorOf } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const input = await readInput(event, orgCreateSchema)
  setResponseStatus(event, 201)
  return createOrg(actorOf(event, admin), admin, input)
})
