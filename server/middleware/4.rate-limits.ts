import { clientIp } from '../utils/client-ip'
import { rateLimit } from '../utils/rate-limit'

/**
 * Starting an OIDC sign-in counts against RATE_LIMIT_LOGIN per client IP, like a password
 * sign-in (server/api/auth/login.post.ts); per-user limits sit in their handlers.
 */
export default defineEventHandler(async (event) => {
  if (event.method === 'GET' && event.path.split('?')[0] === '/auth/oidc/login') {
    await rateLimit(event, 'login', clientIp(event))
  }
})
