import { auditQuerySchema, listAudit } from '#server/services/audit'
import { useConfig } from '#server/utils/config'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'manager' })
  return listAudit(principal, readQueryInput(event, auditQuerySchema(useConfig().MAX_PAGE_SIZE)))
})
