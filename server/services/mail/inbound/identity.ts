import { useConfig } from '#server/utils/config'
import type { OwnIdentity } from './classify'

/** The address part of `Helpdesk <support@example.com>` (or the bare address), lower-case. */
export function addressOf(value: string): string | null {
  const address = /<([^<>\s]+@[^<>\s]+)>/.exec(value)?.[1] ?? (/^[^\s<>]+@[^\s<>]+$/.test(value.trim()) ? value.trim() : null)
  return address?.toLowerCase() ?? null
}

/**
 * Where our own mail comes from: MAIL_FROM and MAIL_REPLY_TO (plus-tokens included), and the
 * domain our Message-IDs carry — the MAIL_FROM address's (see services/mail: outgoing Message-IDs).
 */
export function ownIdentity(): OwnIdentity {
  const { MAIL_FROM, MAIL_REPLY_TO } = useConfig()
  const addresses = [MAIL_FROM && addressOf(MAIL_FROM), MAIL_REPLY_TO && addressOf(MAIL_REPLY_TO)].filter((a): a is string => !!a)
  const from = MAIL_FROM && addressOf(MAIL_FROM)
  return { addresses, messageIdDomains: from ? [from.slice(from.lastIndexOf('@') + 1)] : [] }
}

/** The mailboxes whose plus-addresses carry reply tokens. */
export function replyAddresses(): string[] {
  return ownIdentity().addresses
}
