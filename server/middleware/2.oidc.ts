import { beginSignIn, signOut } from '../services/oidc-sessions'
import { useConfig } from '../utils/config'
import { useIdentityProvider } from '../utils/oidc-provider'

const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Single sign-on is not enabled.' })

/**
 * In front of nuxt-oidc-auth's routes (/auth/oidc/*, /api/_auth/*): absent in AUTH_MODE=local;
 * in AUTH_MODE=oidc the provider is discovered first, sign-in remembers where to return to,
 * and sign-out and renewal are the app's own (see server/services/oidc-sessions.ts).
 */
export default defineEventHandler(async (event) => {
  const path = event.path.split('?')[0]!
  if (!path.startsWith('/auth/oidc/') && !path.startsWith('/api/_auth/')) return
  if (useConfig().AUTH_MODE !== 'oidc') throw notFound()
  // The module's refresh endpoint renews without a lock and would race the server's renewal.
  if (path === '/api/_auth/refresh') throw notFound()
  await useIdentityProvider()
  if (path === '/auth/oidc/login') return beginSignIn(event)
  if (path === '/auth/oidc/logout') return sendRedirect(event, await signOut(event), 302)
})
