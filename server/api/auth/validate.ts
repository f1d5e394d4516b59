import { getPrincipal } from '#server/utils/principal'

/**
 * For a gateway's `auth_request` (any method: nginx keeps the original one): 204 with who is
 * calling, or 401; never a body. Also answers for sessions, so one gateway rule covers browsers
 * and API clients.
 */
export default defineEventHandler(async (event) => {
  const principal = await getPrincipal(event).catch(() => null)
  if (!principal) {
    setResponseStatus(event, 401)
    return null
  }
  setResponseHeaders(event, {
    'X-User-Id': principal.userId,
    'X-User-Roles': principal.roles.join(','),
    'X-Scopes': principal.scopes.join(','),
  })
  setResponseStatus(event, 204)
  return null
})
