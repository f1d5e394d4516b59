import { completeSignIn } from '#server/services/auth/oidc-sessions'
import { useConfig } from '#server/utils/config'

/** Where nuxt-oidc-auth's callback lands: provision the user, then back to where sign-in began. */
export default defineEventHandler(async (event) => {
  if (useConfig().AUTH_MODE !== 'oidc') throw createError({ statusCode: 404, statusMessage: 'Not Found' })
  return sendRedirect(event, await completeSignIn(event), 302)
})
