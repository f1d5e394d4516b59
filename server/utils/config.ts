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
    if (problems.length) throw new ConfigError(problems.join('; '))
  }
  return config
}

/** Which embedded defaults a development start is relying on, for the start-up log. */
export function embeddedDefaults(config: Config): string[] {
  const used: string[] = []
  if (!config.DATABASE_URL) used.push(`embedded PostgreSQL (PGlite) in ${config.DATA_DIR}/db`)
  if (config.AUTH_MODE === 'local' && !config.AUTH_LOCAL_SECRET) used.push(`a generated session secret in ${config.DATA_DIR}/session-secret`)
  return used
}

let cached: Config | undefined

export function useConfig(): Config {
  cached ??= parseConfig(process.env)
  return cached
}
