import { passwordChangeSchema } from '#shared/types/mail'
import { changePassword } from '#server/services/passwords'
import { useConfig } from '#server/utils/config'
import { issueLocalSession, LOCAL_SESSION_COOKIE, localSessionCookieOptions } from '#server/services/auth/local-session'
import { requirePrincipal, actorOf } from '#server/utils/principal'
import { rateLimit } from '#server/utils/rate-limit'
import { readInput } from '#server/utils/validation'

/** Changes the caller's password; their other sessions end, this one continues with a fresh cookie. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  if (useConfig().AUTH_MODE !== 'local' || principal.via !== 'local') {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Passwords are managed by your single sign-on provider.' })
  }
  await rateLimit(event, 'password_reset', principal.userId)
  const { current, password } = await readInput(event, passwordChangeSchema)
  await changePassword(actorOf(event, principal), principal.userId, current, password)
  setCookie(event, LOCAL_SESSION_COOKIE, await issueLocalSession(principal.userId), localSessionCookieOptions())
  return sendNoContent(event, 204)
})
