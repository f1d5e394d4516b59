import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../server/utils/config'
import { productionEnv } from '../fixtures/config'

const production = productionEnv
const mailbox = { IMAP_HOST: 'imap.example.com', IMAP_USER: 'support@example.com', IMAP_PASS: 'secret' }

describe('incoming mail settings', () => {
  it('defaults: IMAP over implicit TLS on 993, INBOX, 20 new tickets per sender and hour', () => {
    const config = parseConfig({})
    expect(config).toMatchObject({ IMAP_PORT: 993, IMAP_TLS: true, IMAP_MAILBOX: 'INBOX', MAIL_INBOUND_RATE: { points: 20, seconds: 3600 } })
    expect(config.INBOUND_EMAIL_TOKEN).toBeUndefined()
    expect(parseConfig({ MAIL_INBOUND_RATE: 'off' }).MAIL_INBOUND_RATE).toBeNull()
  })

  it('production refuses reading a mailbox in clear text unless it is on loopback', () => {
    expect(() => parseConfig({ ...production, ...mailbox, IMAP_TLS: 'false' })).toThrow(/IMAP_TLS=false .* imap\.example\.com/)
    expect(parseConfig({ ...production, ...mailbox, IMAP_HOST: '127.0.0.1', IMAP_TLS: 'false' }).IMAP_TLS).toBe(false)
    expect(parseConfig({ ...production, ...mailbox }).IMAP_TLS).toBe(true)
  })

  it('a mailbox needs its user and password; the relay token must not be guessable', () => {
    expect(() => parseConfig({ IMAP_HOST: 'imap.example.com' })).toThrow(/IMAP_USER and IMAP_PASS/)
    expect(() => parseConfig({ INBOUND_EMAIL_TOKEN: 'short' })).toThrow(/INBOUND_EMAIL_TOKEN: must be at least 24 characters/)
  })
})
