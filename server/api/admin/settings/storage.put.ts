import { storageSettingsSchema } from '#shared/types/attachment'
import { audit } from '#server/services/audit'
import { saveStorageSettings } from '#server/services/storage-settings'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  const input = await readInput(event, storageSettingsSchema)
  const saved = await saveStorageSettings(principal, input)
  // Which values changed is not recorded: the secret must never reach the log.
  await audit(event, { action: 'settings_changed', actorId: principal.userId, target: { type: 'settings', id: 'storage' }, details: { backend: saved.backend, secretChanged: !!input.secretAccessKey } })
  return saved
})
