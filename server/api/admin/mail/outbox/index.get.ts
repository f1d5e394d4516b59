import { z } from 'zod'
import { outboxStateList } from '#shared/types/mail'
import { listOutbox } from '#server/services/mail/outbox'
import { useConfig } from '#server/utils/config'
import { requirePrincipal } from '#server/utils/principal'
import { readQueryInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'admin' })
  const max = useConfig().MAX_PAGE_SIZE
  return listOutbox(readQueryInput(event, z.object({
    state: z.enum(outboxStateList).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(max, `must be at most ${max}`).default(Math.min(25, max)),
  })))
})
