import { createHash } from 'node:crypto'

/**
 * The id of what an inbound message stores (its ticket, reply, note, each file), the same on every
 * attempt: an attempt after a crash, or after a failure past the point of storing, finds what an
 * earlier one stored instead of storing it twice. A version 8 UUID (RFC 9562) from SHA-256.
 */
export function storedIdFor(inboundId: string, what: string): string {
  const hex = createHash('sha256').update(`${inboundId}:${what}`).digest('hex')
  const variant = (8 | (Number.parseInt(hex[16]!, 16) & 3)).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
