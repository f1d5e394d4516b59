import { listBounced } from '#server/services/mail/bounces'
import { requirePrincipal } from '#server/utils/principal'

export default defineEventHandler(async (event) => {
  await requirePrincipal(event, { role: 'admin' })
  return listBounced()
})
