import { getNotificationSettings } from '#server/services/mail/preferences'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  return getNotificationSettings(principal.userId)
})
