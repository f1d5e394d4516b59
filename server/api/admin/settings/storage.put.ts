import { storageSettingsSchema } from '#shared/types/attachment'
import { saveStorageSettings } from '#server/services/storage-settings'
import { actorOf, requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  const input = await readInput(event, storageSettingsSchema)
  return saveStorageSettings(actorOf(event, principal), input)
})
