import { mailQuotes } from '#server/services/mail/inbound/quotes'
import { requirePrincipal } from '#server/utils/principal'

/** The whole texts of replies that came by mail ("show quoted text"). */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  return mailQuotes(principal, getRouterParam(event, 'id')!)
})
