import { LOCAL_SESSION_COOKIE, localSessionCookieOptions } from '../../utils/local-session'

export default defineEventHandler((event) => {
  deleteCookie(event, LOCAL_SESSION_COOKIE, localSessionCookieOptions())
  setResponseStatus(event, 204)
  return null
})
