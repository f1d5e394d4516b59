import { z } from 'zod'
import { getOutboxMail } from '#server/services/mail/outbox'
import { requirePrincipal } from '#server/utils/principal'
import { readParamsInput } from '#server/utils/validation'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'admin' })
  const { id } = readParamsInput(event, z.object({ id: z.uuid('not a mail id') }))
  return getOutboxMail(id)
})
