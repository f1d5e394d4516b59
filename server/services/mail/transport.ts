import { readFileSync } from 'node:fs'
import nodemailer from 'nodemailer'
import type { Transporter } from 'nodemailer'
import type SMTPTransport from 'nodemailer/lib/smtp-transport'
import { useConfig } from '../../utils/config'

let options: SMTPTransport.Options | null | undefined
let transport: Transporter | null | undefined

/** How to reach the SMTP relay from SMTP_*, or null without SMTP_HOST (mail then stays in the outbox). Read once. */
function relayOptions(): SMTPTransport.Options | null {
  if (options !== undefined) return options
  const config = useConfig()
  if (!config.SMTP_HOST) return (options = null)
  return (options = {
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    secure: config.SMTP_SECURE,
    // STARTTLS must succeed unless explicitly allowed otherwise (loopback only in production).
    requireTLS: !config.SMTP_SECURE && config.SMTP_REQUIRE_TLS,
    auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: config.SMTP_PASS ?? '' } : undefined,
    tls: { minVersion: 'TLSv1.2', ...(config.SMTP_CA_FILE ? { ca: readFileSync(config.SMTP_CA_FILE, 'utf8') } : {}) },
    // A relay that does not answer fails the attempt within seconds; the outbox retries later.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  })
}

/** The SMTP relay, or null without SMTP_HOST (mail then stays in the outbox). */
export function useMailTransport(): Transporter | null {
  if (transport !== undefined) return transport
  const relay = relayOptions()
  return (transport = relay && nodemailer.createTransport(relay))
}

/**
 * Sends a batch of mails over one connection to the relay (a new ticket in a busy queue mails
 * every agent who can see it): one TCP and TLS handshake and one AUTH for the batch, not one per
 * mail. A connection the relay drops is made again for the next mail; the connection is closed
 * when the batch is done, so none is left idle between batches.
 */
export async function withMailConnection<T>(send: (transport: Transporter) => Promise<T>): Promise<T> {
  const relay = relayOptions()
  if (!relay) throw new Error('no SMTP relay is configured (SMTP_HOST)')
  const connection = nodemailer.createTransport({ ...relay, pool: true, maxConnections: 1 })
  try {
    return await send(connection)
  }
  finally {
    connection.close()
  }
}

/** For the worker's /ready: 'ok' after a successful handshake (and AUTH), 'skipped' without SMTP_HOST. */
export async function smtpCheck(): Promise<'ok' | 'skipped'> {
  const current = useMailTransport()
  if (!current) return 'skipped'
  await current.verify()
  return 'ok'
}

export function closeMailTransport(): void {
  transport?.close()
  transport = undefined
  options = undefined
}
