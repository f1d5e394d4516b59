import type { H3Event } from 'h3'
import { createError, deleteCookie, getCookie, setCookie } from 'h3'
import type { Me } from '#shared/types/user'
import { audit } from '#server/services/audit'
import { authenticateLocal, findUserWithOrgs } from '#server/services/users'
import { useConfig } from '#server/utils/config'
import { authFailures } from '#server/utils/metrics'
import { actorOf } from '#server/utils/principal'
import { endLocalSession, issueLocalSession, LOCAL_SESSION_COOKIE, localSessionCookieOptions } from './local-session'
import { toMe } from './me'
import { announceUserChange } from './revocation'

/** Password sign-in exists in AUTH_MODE=local only. */
export function requireLocalMode(): void {
  if (useConfig().AUTH_MODE !== 'local') {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Password sign-in is not enabled; use single sign-on.' })
  }
}

/** Checks the pair, audits the attempt and sets the session cookie; one answer for every wrong pair. */
export async function signInLocal(event: H3Event, input: { email: string, password: string }): Promise<{ user: Me }> {
  const user = await authenticateLocal(input.email, input.password, actorOf(event).ip)
  if (!user) {
    authFailures.inc({ reason: 'bad_credentials' })
    await audit(actorOf(event), { action: 'sign_in_failed', details: { email: input.email, via: 'local' } })
    throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Wrong email or password.' })
  }
  await audit(actorOf(event, user.id), { action: 'sign_in', details: { via: 'local' } })
  setCookie(event, LOCAL_SESSION_COOKIE, await issueLocalSession(user.id), localSessionCookieOptions())
  return { user: toMe((await findUserWithOrgs(user.id))!) }
}

/** Ends the caller's local session. */
export async function signOutLocal(event: H3Event): Promise<void> {
  const token = getCookie(event, LOCAL_SESSION_COOKIE)
  const userId = token && await endLocalSession(token)
  // Every copy of the cookie is refused at once on the other replicas too.
  if (userId) await announceUserChange(userId)
  deleteCookie(event, LOCAL_SESSION_COOKIE, localSessionCookieOptions())
}
