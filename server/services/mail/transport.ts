import { readFileSync } from 'node:fs'
import nodemailer from 'nodemailer'
import type { Transporter } from 'nodemailer'
import { useConfig } from '../../utils/config'

let transport: Transporter | null | undefined

/** The SMTP relay from SMTP_*, or null without SMTP_HOST (mail then stays in the outbox). */
export function useMailTransport(): Transporter | null {
  if (transport !== undefined) return transport
  const config = useConfig()
  if (!config.SMTP_HOST) return (transport = null)
  transport = nodemailer.createTransport({
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
  return transport
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
}
