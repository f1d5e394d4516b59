import { timingSafeEqual } from 'node:crypto'
import type { H3Event } from 'h3'
import { createError, getRequestHeader } from 'h3'
import { bearerTokenOf } from '#server/services/auth/bearer'
import { useConfig } from '#server/utils/config'

const unauthorized = () => createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'A valid inbound mail token is required.' })
const tooLarge = (max: number) => createError({ statusCode: 413, statusMessage: 'Payload Too Large', message: `The message is larger than ${max} bytes (MAIL_INBOUND_MAX_BYTES).` })

/** `Authorization: Bearer <INBOUND_EMAIL_TOKEN>`; without a configured token the endpoint takes nothing. */
export function requireInboundToken(event: H3Event): void {
  const expected = useConfig().INBOUND_EMAIL_TOKEN
  const given = bearerTokenOf(getRequestHeader(event, 'authorization'))
  if (!expected || !given) throw unauthorized()
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw unauthorized()
}

/**
 * The request body, counted while it streams: an oversized message (announced or not) is
 * answered 413 and never held whole. Past the limit the rest is read and dropped, so the client
 * still gets the answer; a sender that keeps going past twice the limit is cut off.
 */
export async function readMessageBody(event: H3Event): Promise<Buffer> {
  const max = useConfig().MAIL_INBOUND_MAX_BYTES
  if (Number(getRequestHeader(event, 'content-length') ?? 0) > max) throw tooLarge(max)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of event.node.req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size <= max) chunks.push(chunk)
    else if (size > 2 * max) break
  }
  if (size > max) throw tooLarge(max)
  return Buffer.concat(chunks)
}
