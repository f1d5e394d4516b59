import { bareAddress, mailDomain, mailFrom } from '#server/services/mail/addresses'
import { useConfig } from '#server/utils/config'
import type { OwnIdentity } from './classify'

/** Where our own mail comes from: the sender and reply addresses, and the domain of our Message-IDs. */
export function ownIdentity(): OwnIdentity {
  const { MAIL_REPLY_TO } = useConfig()
  return {
    addresses: [bareAddress(mailFrom()), ...(MAIL_REPLY_TO ? [bareAddress(MAIL_REPLY_TO)] : [])],
    messageIdDomains: [mailDomain()],
  }
}
