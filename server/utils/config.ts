import { z } from 'zod'

const bool = (fallback: boolean) =>
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional()
    .transform(v => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)))

const int = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback)

/** A yes/no that stays undefined when unset, so stored settings can fill it in. */
const optionalBool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional()
  .transform(v => (v === undefined ? undefined : ['true', '1', 'yes'].includes(v)))

const mediaTypes = z.string().transform(s => s.split(',').map(t => t.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z0-9!#$&^_.+-]+\/([a-z0-9!#$&^_.+-]+\*?|\*)$/, 'a comma-separated list of media types (type/*, type/prefix* allowed)')).min(1))

/** What people usually attach to a support ticket: pictures, documents, text, logs, archives. */
export const defaultUploadTypes = [
  'image/png', 'image/jpeg', 'image/gif', 'image/webp',
  'application/pdf', 'text/plain', 'text/csv', 'application/json', 'application/zip',
  'application/msword', 'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.*',
  'application/vnd.oasis.opendocument.*', 'message/rfc822',
].join(',')

/** Comma-separated values, blanks dropped. */
const list = z.string().default('').transform(v => v.split(',').map(s => s.trim()).filter(Boolean))

const units: Record<string, number> = { s: 1, m: 60, h: 3600 }
/** A rate limit as `<requests>/<window>`, e.g. `10/1m`, `300/1h`; `off` disables it. */
export interface RateLimitSetting { points: number, seconds: number }
const rate = (fallback: string) => z.string().default(fallback).transform((value, ctx): RateLimitSetting | null => {
  if (value === 'off') return null
  const match = /^(\d+)\/(\d*)([smh])$/.exec(value.trim())
  if (!match || Number(match[1]) < 1) {
    ctx.addIssue({ code: 'custom', message: 'must look like 10/1m (requests per window in s, m or h) or off' })
    return z.NEVER
  }
  return { points: Number(match[1]), seconds: Number(match[2] || 1) * units[match[3]!]! }
})

/** Every setting the server reads, in one schema; `.env.example` lists them by feature. */
export const configSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PUBLIC_URL: z.url().optional(),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(3000, 0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // JSON lines by default in production, readable lines otherwise.
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),

  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  // Optional owner role for migrations; DATABASE_URL's role then only gets data rights (row-level security binds it).
  DATABASE_MIGRATION_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  DATABASE_POOL_SIZE: int(10),
  // Named prepared statements (plans reused per connection); false behind a pooler that cannot keep them.
  DATABASE_PREPARE: bool(true),
  // Allow the app's database role to bypass row-level security in production (superuser / BYPASSRLS).
  DATABASE_ALLOW_RLS_BYPASS: bool(false),

  AUTH_MODE: z.enum(['local', 'oidc']).default('local'),
  AUTH_LOCAL_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_MAX_AGE: int(30 * 24 * 3600, 60),
  ADMIN_EMAIL: z.email().default('admin@helpdesk.local'),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),

  // AUTH_MODE=oidc: the identity provider (Authentik) and how its groups become roles.
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  OIDC_GROUP_CLAIM: z.string().min(1).default('groups'),
  // Unset: `<prefix>-visibility-org` and `<prefix>-visibility-assigned`.
  OIDC_GROUP_VISIBILITY_ORG: z.string().min(1).optional(),
  OIDC_GROUP_VISIBILITY_ASSIGNED: z.string().min(1).optional(),
  OIDC_GROUP_PREFIX: z.string().regex(/^[\w.-]+$/, 'letters, digits, dots, dashes and underscores').default('helpdesk'),
  // nuxt-oidc-auth's secrets: identical on every replica, or replicas reject each other's sessions.
  NUXT_OIDC_SESSION_SECRET: z.string().min(48, 'must be at least 48 characters').optional(),
  NUXT_OIDC_TOKEN_KEY: z.base64().refine(v => Buffer.from(v, 'base64').length === 32, 'must be the base64 of 32 random bytes').optional(),
  NUXT_OIDC_AUTH_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),

  // Bearer tokens minted by the IdP for API and machine clients (verified against its JWKS; issuer above).
  OIDC_JWKS_URL: z.url().optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_SKEW_SECONDS: int(30, 0),
  JWKS_REFRESH_SECONDS: int(600, 10),
  // The shortest gap between two fetches caused by an unknown `kid`.
  JWKS_MIN_REFETCH_SECONDS: int(30, 0),

  // Shared state for several replicas (rate limits; sessions in AUTH_MODE=oidc).
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[\w.-]+$/, 'letters, digits, dots, dashes and underscores').default('helpdesk'),
  // How many app processes serve this installation; more than one needs REDIS_URL in production.
  REPLICAS: int(1),

  // Browser-facing protection.
  ALLOWED_ORIGINS: list,
  TRUSTED_PROXIES: list,
  RATE_LIMIT_LOGIN: rate('10/1m'),
  RATE_LIMIT_TICKETS: rate('30/10m'),
  RATE_LIMIT_ATTACHMENTS: rate('60/10m'),

  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Production only: /metrics without METRICS_TOKEN (e.g. reachable only inside the cluster's network).
  METRICS_ALLOW_ANONYMOUS: bool(false),
  // Let the admin area's storage settings point at loopback, private and link-local addresses.
  // Unset: allowed in development (the embedded default, tests), refused in production.
  STORAGE_ALLOW_PRIVATE_ENDPOINTS: optionalBool,

  VISIBILITY_ENABLED: bool(true),
  MAX_PAGE_SIZE: int(100),
  MAX_BODY_SIZE_BYTES: int(1024 * 1024),

  // Encrypts secrets stored in the settings table (e.g. the S3 secret key).
  SETTINGS_ENCRYPTION_KEY: z.string().min(32, 'must be at least 32 characters').optional(),

  // Attachments: `local` disk under DATA_DIR/uploads unless S3 is configured here or in the admin area.
  STORAGE_BACKEND: z.enum(['local', 's3']).optional(),
  S3_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().min(1).optional(),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name').optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: optionalBool,
  MAX_UPLOAD_BYTES: int(25 * 1024 * 1024),
  ALLOWED_UPLOAD_TYPES: mediaTypes.default(mediaTypes.parse(defaultUploadTypes)),
  MAX_ATTACHMENTS_PER_TICKET: int(50),
  UPLOAD_URL_TTL: int(300).pipe(z.number().max(604_800, 'must be at most 604800 (a week)')),
  DOWNLOAD_URL_TTL: int(60).pipe(z.number().max(604_800, 'must be at most 604800 (a week)')),
  // Uploads announced but never completed are removed after this many seconds.
  PENDING_UPLOAD_MAX_AGE: int(3600),
  ATTACHMENT_CLEANUP_INTERVAL: int(600),
  // Seconds between merges of the search index's pending list (server/services/search-jobs.ts).
  SEARCH_FLUSH_INTERVAL: int(1),

  // Background jobs and the worker process (docs/email.md). Unset JOBS_IN_PROCESS: the app runs
  // jobs itself without REDIS_URL, and leaves them to `npm run worker` with it.
  JOBS_IN_PROCESS: optionalBool,
  PROCESS_ROLE: z.enum(['app', 'worker']).default('app'),
  WORKER_PORT: int(8081, 0),

  // Outgoing mail (docs/email.md). Without SMTP_HOST nothing is sent; the outbox keeps every mail.
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: int(587),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASS: z.string().min(1).optional(),
  // Implicit TLS from the first byte (port 465); otherwise STARTTLS on a plain connection.
  SMTP_SECURE: bool(false),
  // STARTTLS must succeed; false only for a relay on loopback.
  SMTP_REQUIRE_TLS: bool(true),
  // PEM file of a private CA the relay's certificate is signed by (in addition to the system's).
  SMTP_CA_FILE: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(3).optional(),
  // The plus-addressable mailbox replies go to (support@example.com → support+<token>@example.com).
  MAIL_REPLY_TO: z.email().optional(),
  MAIL_MAX_ATTEMPTS: int(8),
  // First retry after this many seconds, doubling each time (8 attempts ≈ 4 hours at 60).
  MAIL_RETRY_BASE_SECONDS: int(60),
  // How often the worker looks for due mail that no job announced (after a crash or a Redis outage).
  MAIL_SWEEP_INTERVAL: int(30),
  // A reply's mail waits this long, so files uploaded with the reply are listed in it.
  MAIL_REPLY_HOLD_SECONDS: int(10, 0),
  RATE_LIMIT_PASSWORD_RESET: rate('5/15m'),

  // Inbound mail (docs/email.md): the relay endpoint's secret, and a mailbox read over IMAP.
  INBOUND_EMAIL_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  MAIL_INBOUND_MAX_BYTES: int(40 * 1024 * 1024),
  MAIL_INBOUND_RATE: rate('20/1h'),
  IMAP_HOST: z.string().min(1).optional(),
  IMAP_PORT: int(993),
  IMAP_TLS: bool(true),
  IMAP_USER: z.string().min(1).optional(),
  IMAP_PASS: z.string().min(1).optional(),
  IMAP_MAILBOX: z.string().min(1).default('INBOX'),

  // Live updates (/api/live): seconds between keep-alive comments on idle streams (proxies close silent ones).
  LIVE_HEARTBEAT_SECONDS: int(20),

  // When a dependency stops answering, requests that need it fail (503) after this long instead of hanging.
  DB_TIMEOUT_MS: int(5000, 100),
  REDIS_TIMEOUT_MS: int(2000, 100),
  OBJECTSTORE_TIMEOUT_MS: int(10_000, 100),
  // AUTH_MODE=oidc: each call to the identity provider (discovery, session renewal, the check before a sign-in starts).
  OIDC_TIMEOUT_MS: int(10_000, 100),
  // SIGTERM: readiness fails for SHUTDOWN_DRAIN_MS while requests are still served (load balancers
  // stop sending new ones), then the listener closes and requests in flight get SHUTDOWN_GRACE_MS.
  // Default: 5000 in production, 0 elsewhere (development and tests stop at once).
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).optional(),
  SHUTDOWN_GRACE_MS: int(20_000, 0),
})

export type Config = z.infer<typeof configSchema> & { production: boolean }

export class ConfigError extends Error {}

/**
 * Parses the environment. In production, settings that are only safe as development
 * conveniences are refused, naming the variable, so a misconfigured replica never starts.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')))
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; '))
  }
  const config = { ...parsed.data, production: parsed.data.NODE_ENV === 'production' }
  const signIn = signInProblems(config)
  if (config.production) {
    const problems: string[] = [...signIn]
    if (config.AUTH_MODE === 'local' && !config.AUTH_LOCAL_SECRET) problems.push('AUTH_LOCAL_SECRET is required when AUTH_MODE=local')
    if (!config.DATABASE_URL) problems.push('DATABASE_URL is required (the embedded database is for trying Helpdesk out)')
    if (!config.PUBLIC_URL) problems.push('PUBLIC_URL is required (links and cookies depend on it)')
    if (!config.SETTINGS_ENCRYPTION_KEY) problems.push('SETTINGS_ENCRYPTION_KEY is required (stored secrets are encrypted with it; every replica needs the same one)')
    if (config.UPLOAD_URL_TTL > config.PENDING_UPLOAD_MAX_AGE) problems.push('PENDING_UPLOAD_MAX_AGE must not be shorter than UPLOAD_URL_TTL (uploads in flight would be removed)')
    if (config.AUTH_MODE === 'oidc') {
      if (!config.REDIS_URL) problems.push('REDIS_URL is required when AUTH_MODE=oidc (sessions kept in memory are lost on restart and unknown to other replicas)')
    }
    if (config.ALLOWED_ORIGINS.includes('*')) problems.push('ALLOWED_ORIGINS must list exact origins, not * (cookies would be usable from any site)')
    for (const origin of config.ALLOWED_ORIGINS.filter(o => o !== '*' && !isOrigin(o))) problems.push(`ALLOWED_ORIGINS: ${origin} is not an origin like https://app.example.com`)
    if (config.REPLICAS > 1 && !config.REDIS_URL) problems.push(`REDIS_URL is required when REPLICAS=${config.REPLICAS} (each replica would count rate limits alone)`)
    if (config.IMAP_HOST && !config.IMAP_TLS && !isLoopback(config.IMAP_HOST)) problems.push(`IMAP_TLS=false is only allowed for a mailbox on loopback, not ${config.IMAP_HOST} (the mailbox password would cross the network in clear)`)
    if (config.OIDC_JWKS_URL && (!config.OIDC_ISSUER || !config.OIDC_AUDIENCE)) problems.push('OIDC_ISSUER and OIDC_AUDIENCE are required with OIDC_JWKS_URL (tokens for other clients would be accepted)')
    if (config.SMTP_HOST && !config.SMTP_SECURE && !config.SMTP_REQUIRE_TLS && !isLoopback(config.SMTP_HOST)) problems.push('SMTP_REQUIRE_TLS=false is only allowed for an SMTP relay on loopback (mail and SMTP_PASS would cross the network in plain text); use SMTP_SECURE=true or STARTTLS')
    if (config.SMTP_HOST && !config.MAIL_FROM) problems.push('MAIL_FROM is required with SMTP_HOST (the sender address of notifications)')
    if (problems.length) throw new ConfigError(problems.join('; '))
  }
  if (signIn.length) throw new ConfigError(signIn.join('; '))
  if (config.JOBS_IN_PROCESS === false && !config.REDIS_URL) throw new ConfigError('JOBS_IN_PROCESS=false needs REDIS_URL (without a queue nobody else could run the jobs)')
  if (config.IMAP_HOST && (!config.IMAP_USER || !config.IMAP_PASS)) throw new ConfigError('IMAP_USER and IMAP_PASS are required with IMAP_HOST')
  return config
}

/** AUTH_MODE=oidc needs its IdP and nuxt-oidc-auth's three secrets, in every environment. */
function signInProblems(config: Config): string[] {
  if (config.AUTH_MODE !== 'oidc') return []
  const missing = (['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const).filter(name => !config[name])
  // The module reads its secrets from the environment itself, so none can be made up here (docs/oidc.md).
  return [
    ...missing.map(name => `${name} is required when AUTH_MODE=oidc`),
    ...oidcSecrets.filter(name => !config[name]).map(name => `${name} is required when AUTH_MODE=oidc (the same value on every replica; e.g. openssl rand -base64 ${name === 'NUXT_OIDC_TOKEN_KEY' ? 32 : 48})`),
  ]
}

export const oidcSecrets = ['NUXT_OIDC_SESSION_SECRET', 'NUXT_OIDC_TOKEN_KEY', 'NUXT_OIDC_AUTH_SESSION_SECRET'] as const

/** Where people open the app: PUBLIC_URL, or the address the server listens on. */
export function publicUrl(config: Config): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '')
  return `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${config.PORT}`
}

/** Where the worker's probes answer. */
export function workerUrl(config: Config): string {
  return `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${config.PORT}`
}

/** For the start-up banner: whether mail goes out. */
export function mailNotice(config: Config): string {
  return config.SMTP_HOST
    ? `\n  Mail is sent through ${config.SMTP_HOST}:${config.SMTP_PORT}`
    : '\n  Mail is not sent (no SMTP_HOST): notifications wait in the outbox, Admin → Mail'
}

/** Cookies carry `Secure` in production and whenever the app is served over https. */
export function secureCookies(config: Config): boolean {
  return config.production || config.PUBLIC_URL?.startsWith('https://') === true
}

/** Which embedded defaults a development start is relying on, for the start-up log. */
export function embeddedDefaults(config: Config): string[] {
  const used: string[] = []
  if (!config.DATABASE_URL) used.push(`embedded PostgreSQL (PGlite) in ${config.DATA_DIR}/db`)
  if (config.AUTH_MODE === 'local' && !config.AUTH_LOCAL_SECRET) used.push(`a generated session secret in ${config.DATA_DIR}/session-secret`)
  if (!config.SETTINGS_ENCRYPTION_KEY) used.push(`a generated settings encryption key in ${config.DATA_DIR}/settings-key`)
  if (!config.STORAGE_BACKEND && !config.S3_BUCKET) used.push(`attachments on local disk in ${config.DATA_DIR}/uploads (unless S3 is set in the admin area)`)
  if (config.AUTH_MODE === 'oidc') {
    if (!config.REDIS_URL) used.push('sessions in memory (lost on restart, one process only)')
  }
  if (!config.REDIS_URL) used.push('rate limits counted in memory (one process only)')
  if (!config.SMTP_HOST) used.push('no SMTP_HOST: mail is kept in the outbox (Admin → Mail), nothing is sent')
  return used
}

/** Loopback names and addresses: plaintext SMTP never leaves the machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h)
}

function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value
  }
  catch {
    return false
  }
}

/** Bearer tokens are accepted once the IdP's keys and the expected issuer and audience are known. */
export function bearerTokensEnabled(config: Config): boolean {
  return !!(config.OIDC_ISSUER && config.OIDC_JWKS_URL && config.OIDC_AUDIENCE)
}

let cached: Config | undefined

export function useConfig(): Config {
  cached ??= parseConfig(process.env)
  return cached
}
