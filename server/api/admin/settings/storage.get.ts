import { getStorageSettings } from '#server/services/storage-settings'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'manager' })
  return getStorageSettings()
})
