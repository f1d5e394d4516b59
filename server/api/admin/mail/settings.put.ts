import { mailSettingsSchema, setMailSettings } from '#server/services/mail/settings'
import { requirePrincipal, actorOf } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  return setMailSettings(actorOf(event, principal), await readInput(event, mailSettingsSchema))
})
