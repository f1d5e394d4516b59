import { beginSignIn, refuseForeignCallback, signInReturnPath } from '#server/services/auth/oidc-sessions'
import { applyModuleRuntimeConfig, moduleRoutes } from '#server/services/auth/oidc-adapter'
import { probeIdentityProvider, useIdentityProvider } from '#server/services/auth/oidc-provider'
import { signInUnavailablePage } from '#server/services/auth/sign-in-unavailable'
import { useConfig } from '#server/utils/config'
import { isOutage } from '#server/utils/dependencies'
import { dependencyFailures } from '#server/utils/metrics'

const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Single sign-on is not enabled.' })

/**
 * In front of nuxt-oidc-auth's routes (/auth/oidc/*, /api/_auth/*): absent in AUTH_MODE=local;
 * in AUTH_MODE=oidc only its login and callback run (renewal and sign-out are the app's own, see
 * server/services/auth/oidc-sessions.ts), the provider is discovered first, sign-in remembers
 * where to return to, and a callback that does not belong to this browser's sign-in stops here.
 * While the IdP does not answer, both answer a 503 page saying so (within OIDC_TIMEOUT_MS)
 * instead of sending the browser to an IdP that is not there.
 */
export default defineEventHandler(async (event) => {
  const path = event.path.split('?')[0]!
  if (!path.startsWith('/auth/oidc/') && !path.startsWith('/api/_auth/')) return
  if (useConfig().AUTH_MODE !== 'oidc' || !moduleRoutes.has(path)) throw notFound()
  applyModuleRuntimeConfig(event)
  const login = path === '/auth/oidc/login'
  try {
    await useIdentityProvider()
    // The discovery document is kept from the first use: whether the IdP answers now is asked anew.
    if (login) await probeIdentityProvider()
  }
  catch (error) {
    if (!isOutage(error)) throw error
    dependencyFailures.inc({ dependency: 'identity provider' })
    return signInUnavailablePage(event, signInReturnPath(event))
  }
  if (login) return beginSignIn(event)
  return refuseForeignCallback(event)
})
