import { meUpdateSchema } from '#shared/types/user'
import { toMe } from '#server/services/auth/me'
import { announceUserChange } from '#server/services/auth/revocation'
import { renameSelf } from '#server/services/users'
import { requirePrincipal, actorOf } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

/** Users change their own display name. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { scope: null })
  const { name } = await readInput(event, meUpdateSchema)
  const user = await renameSelf(actorOf(event, principal), principal, name)
  // Every replica's next request of this user carries the new name.
  await announceUserChange(principal.userId)
  return toMe(user)
})
