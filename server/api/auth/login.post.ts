import { loginSchema } from '#shared/types/user'
import { requireLocalMode, signInLocal } from '#server/services/auth/local'
import { clientIp } from '#server/utils/client-ip'
import { rateLimit } from '#server/utils/rate-limit'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  requireLocalMode()
  await rateLimit(event, 'login', clientIp(event))
  return signInLocal(event, await readInput(event, loginSchema))
})
