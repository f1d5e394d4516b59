import { z } from 'zod'
import { listUsers } from '../../../services/users'
import { useConfig } from '../../../utils/config'
import { requirePrincipal } from '../../../utils/principal'
import { readQueryInput } from '../../../utils/validation'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'manager' })
  const { MAX_PAGE_SIZE } = useConfig()
  const query = readQueryInput(event, z.object({
    q: z.string().trim().max(100).optional(),
    org: z.string().trim().max(64).optional(),
    cursor: z.string().max(400).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(Math.min(50, MAX_PAGE_SIZE)),
  }))
  return listUsers(query)
})
