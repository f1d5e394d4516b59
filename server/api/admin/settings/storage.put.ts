import { storageSettingsSchema } from '../../../../shared/types/attachment'
import { saveStorageSettings } from '../../../services/storage-settings'
import { requirePrincipal } from '../../../utils/principal'
import { readInput } from '../../../utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'admin' })
  const input = await readInput(event, storageSettingsSchema)
  return saveStorageSettings(principal, input)
})
