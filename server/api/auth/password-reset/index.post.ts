import { actorOf } from '#server/utils/principal'
import { passwordResetRequestSchema } from '#shared/types/mail'
import { requestPasswordReset } from '#server/services/passwords'
import { clientIp } from '#server/utils/client-ip'
import { useConfig } from '#server/utils/config'
import { rateLimit } from '#server/utils/rate-limit'
import { readInput } from '#server/utils/validation'

/** 202 whatever the address: whether it has an account is never revealed. */
export default defineEventHandler(async (event) => {
  if (useConfig().AUTH_MODE !== 'local') {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Passwords are managed by your single sign-on provider.' })
  }
  await rateLimit(event, 'password_reset', clientIp(event))
  const { email } = await readInput(event, passwordResetRequestSchema)
  await rateLimit(event, 'password_reset', `address:${email.toLowerCase()}`)
  await requestPasswordReset(actorOf(event), email)
  setResponseStatus(event, 202)
  return { status: 'accepted' }
})
