import { auditQuerySchema, listAudit } from '../../services/audit'
import { useConfig } from '../../utils/config'
import { requirePrincipal } from '../../utils/principal'
import { readQueryInput } from '../../utils/validation'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'manager' })
  return listAudit(readQueryInput(event, auditQuerySchema(useConfig().MAX_PAGE_SIZE)))
})
