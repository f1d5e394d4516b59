import { storageSettingsSchema } from '#shared/types/attachment'
import { testStorageSettings } from '#server/services/storage-settings'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

/** "Test connection": tries the settings in the form (not yet saved) and says what happened. */
export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'admin' })
  const input = await readInput(event, storageSettingsSchema)
  return testStorageSettings(input)
})
