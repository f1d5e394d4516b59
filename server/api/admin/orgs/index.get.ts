import { z } from 'zod'
import { listOrgs } from '#server/services/orgs'
import { useConfig } from '#server/utils/config'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

/** Organisations with member and ticket counts: all for admins, their own for managers. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'manager' })
  const { MAX_PAGE_SIZE } = useConfig()
  const query = readQueryInput(event, z.object({
    q: z.string().trim().max(100, 'must be at most 100 characters').optional(),
    cursor: z.string().max(400).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`).default(Math.min(50, MAX_PAGE_SIZE)),
  }))
  return listOrgs(principal, query)
})
