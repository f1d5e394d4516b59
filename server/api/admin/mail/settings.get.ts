import { getMailSettings } from '#server/services/mail/settings'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'admin' })
  return getMailSettings()
})
