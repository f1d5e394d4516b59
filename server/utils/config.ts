import { z } from 'zod'

const bool = (fallback: boolean) =>
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional()
    .transform(v => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)))

const int = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback)

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

  // Server-side sessions (AUTH_MODE=oidc); without REDIS_URL they live in memory (one process only).
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[\w.-]+$/, 'letters, digits, dots, dashes and underscores').default('helpdesk'),

  VISIBILITY_ENABLED: bool(true),
  MAX_PAGE_SIZE: int(100),
  MAX_BODY_SIZE_BYTES: int(1024 * 1024),
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
    if (config.AUTH_MODE === 'oidc') {
      for (const name of oidcSecrets) {
        if (!config[name]) problems.push(`${name} is required when AUTH_MODE=oidc (the same value on every replica)`)
      }
      if (!config.REDIS_URL) problems.push('REDIS_URL is required when AUTH_MODE=oidc (sessions kept in memory are lost on restart and unknown to other replicas)')
    }
    if (problems.length) throw new ConfigError(problems.join('; '))
  }
  if (config.AUTH_MODE === 'oidc') {
    const missing = (['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const).filter(name => !config[name])
    if (missing.length) throw new ConfigError(missing.map(name => `${name} is required when AUTH_MODE=oidc`).join('; '))
  }
  return config
}

export const oidcSecrets = ['NUXT_OIDC_SESSION_SECRET', 'NUXT_OIDC_TOKEN_KEY', 'NUXT_OIDC_AUTH_SESSION_SECRET'] as const

/** Where people open the app: PUBLIC_URL, or the address the server listens on. */
export function publicUrl(config: Config): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '')
  return `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${config.PORT}`
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
  if (config.AUTH_MODE === 'oidc') {
    if (oidcSecrets.some(name => !config[name])) used.push(`generated OIDC session secrets in ${config.DATA_DIR}/oidc-secrets.json`)
    if (!config.REDIS_URL) used.push('sessions in memory (lost on restart, one process only)')
  }
  return used
}

let cached: Config | undefined

export function useConfig(): Config {
  cached ??= parseConfig(process.env)
  return cached
}
