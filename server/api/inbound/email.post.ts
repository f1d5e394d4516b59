import { receiveInboundMessage } from '#server/services/mail/inbound/jobs'
import { readMessageBody, requireInboundToken } from '#server/services/mail/inbound/relay'

/** A mail relay (Postfix pipe, Postmark, Mailgun, SES…) hands over one raw message; 202 once it is stored. */
export default defineEventHandler(async (event) => {
  requireInboundToken(event)
  const raw = await readMessageBody(event)
  const id = await receiveInboundMessage(raw, 'relay')
  setResponseStatus(event, 202)
  return { id }
})
