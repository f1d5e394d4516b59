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

/** Every setting the server reads, in one schema; `.env.example` lists them by feature. */
export const configSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PUBLIC_URL: z.url().optional(),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(3000, 0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  // Optional owner role for migrations; DATABASE_URL's role then only gets data rights (row-level security binds it).
  DATABASE_MIGRATION_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  DATABASE_POOL_SIZE: int(10),
  // Allow the app's database role to bypass row-level security in production (superuser / BYPASSRLS).
  DATABASE_ALLOW_RLS_BYPASS: bool(false),

  AUTH_MODE: z.enum(['local', 'oidc']).default('local'),
  AUTH_LOCAL_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_MAX_AGE: int(30 * 24 * 3600, 60),
  ADMIN_EMAIL: z.email().default('admin@helpdesk.local'),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),

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
  // Presigned and direct uploads per user per minute.
  RATE_LIMIT_ATTACHMENTS: int(30),
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
  if (config.production) {
    const problems: string[] = []
    if (config.AUTH_MODE === 'local' && !config.AUTH_LOCAL_SECRET) problems.push('AUTH_LOCAL_SECRET is required when AUTH_MODE=local')
    if (!config.DATABASE_URL) problems.push('DATABASE_URL is required (the embedded database is for trying Helpdesk out)')
    if (!config.PUBLIC_URL) problems.push('PUBLIC_URL is required (links and cookies depend on it)')
    if (!config.SETTINGS_ENCRYPTION_KEY) problems.push('SETTINGS_ENCRYPTION_KEY is required (stored secrets are encrypted with it; every replica needs the same one)')
    if (config.UPLOAD_URL_TTL > config.PENDING_UPLOAD_MAX_AGE) problems.push('PENDING_UPLOAD_MAX_AGE must not be shorter than UPLOAD_URL_TTL (uploads in flight would be removed)')
    if (problems.length) throw new ConfigError(problems.join('; '))
  }
  return config
}

/** Which embedded defaults a development start is relying on, for the start-up log. */
export function embeddedDefaults(config: Config): string[] {
  const used: string[] = []
  if (!config.DATABASE_URL) used.push(`embedded PostgreSQL (PGlite) in ${config.DATA_DIR}/db`)
  if (config.AUTH_MODE === 'local' && !config.AUTH_LOCAL_SECRET) used.push(`a generated session secret in ${config.DATA_DIR}/session-secret`)
  if (!config.SETTINGS_ENCRYPTION_KEY) used.push(`a generated settings encryption key in ${config.DATA_DIR}/settings-key`)
  if (!config.STORAGE_BACKEND && !config.S3_BUCKET) used.push(`attachments on local disk in ${config.DATA_DIR}/uploads (unless S3 is set in the admin area)`)
  return used
}

let cached: Config | undefined

export function useConfig(): Config {
  cached ??= parseConfig(process.env)
  return cached
}
