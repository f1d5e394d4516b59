import { notificationSettingsSchema } from '#shared/types/mail'
import { setNotificationSettings } from '#server/services/mail/preferences'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  return setNotificationSettings(principal.userId, await readInput(event, notificationSettingsSchema))
})
