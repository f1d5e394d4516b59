import { z } from 'zod'
import { unsubscribe } from '#server/services/mail/preferences'
import { readParamsInput } from '#server/utils/validation'

/**
 * One-click unsubscribe (RFC 8058): mail clients POST `List-Unsubscribe=One-Click` here without
 * cookies; the unsubscribe page posts the same. The signed token names the user.
 */
export default defineEventHandler(async (event) => {
  const { token } = readParamsInput(event, z.object({ token: z.string().min(10).max(200) }))
  if (!await unsubscribe(token)) {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'This unsubscribe link is not valid.' })
  }
  return { unsubscribed: true }
})
