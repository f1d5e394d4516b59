import { getStorageSettings } from '../../../services/storage-settings'
import { requirePrincipal } from '../../../utils/principal'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'manager' })
  return getStorageSettings()
})
