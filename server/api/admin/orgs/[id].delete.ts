import { z } from 'zod'
import { deleteOrg } from '#server/services/orgs'
import { requirePrincipal, actorOf } from '#server/utils/principal'
import { readParamsInput } from '#server/utils/validation'

/** Deletes an empty organisation (409 while it has members or tickets). */
export default defineEventHandler(async (event) => {
  const admin = await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.uuid() }))
  await deleteOrg(actorOf(event, admin), admin, id)
  setResponseStatus(event, 204)
  return null
})
