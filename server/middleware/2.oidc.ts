import { beginSignIn, refuseForeignCallback } from '#server/services/auth/oidc-sessions'
import { applyModuleRuntimeConfig, moduleRoutes } from '#server/services/auth/oidc-adapter'
import { useIdentityProvider } from '#server/services/auth/oidc-provider'
import { useConfig } from '#server/utils/config'

const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Single sign-on is not enabled.' })

/**
 * In front of nuxt-oidc-auth's routes (/auth/oidc/*, /api/_auth/*): absent in AUTH_MODE=local;
 * in AUTH_MODE=oidc only its login and callback run (renewal and sign-out are the app's own, see
 * server/services/auth/oidc-sessions.ts), the provider is discovered first, sign-in remembers
 * where to return to, and a callback that does not belong to this browser's sign-in stops here.
 */
export default defineEventHandler(async (event) => {
  const path = event.path.split('?')[0]!
  if (!path.startsWith('/auth/oidc/') && !path.startsWith('/api/_auth/')) return
  if (useConfig().AUTH_MODE !== 'oidc' || !moduleRoutes.has(path)) throw notFound()
  applyModuleRuntimeConfig(event)
  await useIdentityProvider()
  if (path === '/auth/oidc/login') return beginSignIn(event)
  return refuseForeignCallback(event)
})
