import { loginSchema } from '#shared/types/user'
import { audit } from '../../services/audit'
import { authenticateLocal, findUserWithOrgs } from '../../services/users'
import { toMe } from '../../services/me'
import { clientIp } from '../../utils/client-ip'
import { useConfig } from '../../utils/config'
import { issueLocalSession, LOCAL_SESSION_COOKIE, localSessionCookieOptions } from '../../utils/local-session'
import { authFailures } from '../../utils/metrics'
import { rateLimit } from '../../utils/rate-limit'
import { readInput } from '../../utils/validation'

export default defineEventHandler(async (event) => {
  if (useConfig().AUTH_MODE !== 'local') {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Password sign-in is not enabled; use single sign-on.' })
  }
  await rateLimit(event, 'login', clientIp(event))
  const { email, password } = await readInput(event, loginSchema)
  const user = await authenticateLocal(email, password)
  if (!user) {
    authFailures.inc({ reason: 'bad_credentials' })
    await audit(event, { action: 'sign_in_failed', details: { email, via: 'local' } })
    throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Wrong email or password.' })
  }
  await audit(event, { action: 'sign_in', actorId: user.id, details: { via: 'local' } })
  setCookie(event, LOCAL_SESSION_COOKIE, await issueLocalSession(user.id), localSessionCookieOptions())
  return { user: toMe((await findUserWithOrgs(user.id))!) }
})
