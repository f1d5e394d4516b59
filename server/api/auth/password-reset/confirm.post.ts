import { actorOf } from '#server/utils/principal'
import { passwordResetConfirmSchema } from '#shared/types/mail'
import { confirmPasswordReset } from '#server/services/passwords'
import { clientIp } from '#server/utils/client-ip'
import { useConfig } from '#server/utils/config'
import { rateLimit } from '#server/utils/rate-limit'
import { readInput } from '#server/utils/validation'

/** Sets the new password from a reset link (once), ending every session of the account. */
export default defineEventHandler(async (event) => {
  if (useConfig().AUTH_MODE !== 'local') {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Passwords are managed by your single sign-on provider.' })
  }
  await rateLimit(event, 'password_reset', clientIp(event))
  const { token, password } = await readInput(event, passwordResetConfirmSchema)
  await confirmPasswordReset(actorOf(event), token, password)
  return sendNoContent(event, 204)
})
