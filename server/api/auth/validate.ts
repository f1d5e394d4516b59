import { isOutage } from '#server/utils/dependencies'
import { answerWithoutBody } from '#server/utils/no-content'
import { getPrincipal } from '#server/utils/principal'

/**
 * For a gateway's `auth_request` (any method: nginx keeps the original one): 204 with who is
 * calling, 401, or 503 when a dependency it needs is down; never a body. Also answers for
 * sessions, so one gateway rule covers browsers and API clients.
 */
export default defineEventHandler(async (event) => {
  let outage = false
  const principal = await getPrincipal(event).catch((error: unknown) => {
    outage = isOutage(error)
    return null
  })
  // An outage is not a sign-out: 503 (retry later), never a 401 that sends people to sign in.
  if (outage) return answerWithoutBody(event, 503)
  if (!principal) return answerWithoutBody(event, 401)
  setResponseHeaders(event, {
    'X-User-Id': principal.userId,
    'X-User-Roles': principal.roles.join(','),
    'X-Scopes': principal.scopes.join(','),
  })
  return answerWithoutBody(event, 204)
})
