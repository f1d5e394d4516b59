import { z } from 'zod'
import { searchRequesters } from '#server/services/users'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

/** People staff may open a ticket for, by name or email (the new-ticket form's requester picker). */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event, { role: 'agent' })
  const { q } = readQueryInput(event, z.object({ q: z.string({ error: 'is required' }).trim().min(1, 'is required').max(100, 'must be at most 100 characters') }))
  return { data: await searchRequesters(principal, q) }
})
