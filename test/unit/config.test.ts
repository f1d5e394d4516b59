import { describe, expect, it } from 'vitest'
import { ConfigError, embeddedDefaults, parseConfig } from '../../server/utils/config'
import { productionEnv } from '../fixtures/config'

describe('configuration', () => {
  it('starts with embedded defaults when nothing is set', () => {
    const config = parseConfig({})
    expect(config.AUTH_MODE).toBe('local')
    expect(config.VISIBILITY_ENABLED).toBe(true)
    expect(config.MAX_PAGE_SIZE).toBe(100)
    expect(embeddedDefaults(config)).toEqual([
      'embedded PostgreSQL (PGlite) in .data/db',
      'a generated session secret in .data/session-secret',
      'a generated settings encryption key in .data/settings-key',
      'attachments on local disk in .data/uploads (unless S3 is set in the admin area)',
      'rate limits counted in memory (one process only)',
      'no SMTP_HOST: mail is kept in the outbox (Admin → Mail), nothing is sent',
    ])
    expect(config.MAX_UPLOAD_BYTES).toBe(25 * 1024 * 1024)
    expect(config.UPLOAD_URL_TTL).toBe(300)
    expect(config.ALLOWED_UPLOAD_TYPES).toContain('image/png')
  })

  it('refuses production without the secrets and services it needs, naming each variable', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(ConfigError)
    try {
      parseConfig({ NODE_ENV: 'production' })
    }
    catch (error) {
      expect((error as Error).message).toMatch(/AUTH_LOCAL_SECRET/)
      expect((error as Error).message).toMatch(/DATABASE_URL/)
      expect((error as Error).message).toMatch(/PUBLIC_URL/)
      expect((error as Error).message).toMatch(/SETTINGS_ENCRYPTION_KEY/)
    }
    expect(() => parseConfig(productionEnv)).not.toThrow()
  })

  it('names the variable that has a bad value', () => {
    expect(() => parseConfig({ MAX_PAGE_SIZE: 'lots' })).toThrow(/MAX_PAGE_SIZE/)
    expect(() => parseConfig({ AUTH_LOCAL_SECRET: 'short' })).toThrow(/AUTH_LOCAL_SECRET: must be at least 32/)
    expect(() => parseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/)
    expect(parseConfig({ VISIBILITY_ENABLED: 'false' }).VISIBILITY_ENABLED).toBe(false)
    expect(() => parseConfig({ ALLOWED_UPLOAD_TYPES: 'image/png, not a type' })).toThrow(/ALLOWED_UPLOAD_TYPES/)
    expect(parseConfig({ ALLOWED_UPLOAD_TYPES: 'image/*, Application/PDF' }).ALLOWED_UPLOAD_TYPES).toEqual(['image/*', 'application/pdf'])
    expect(() => parseConfig({ S3_BUCKET: 'Bad_Bucket' })).toThrow(/S3_BUCKET/)
    expect(parseConfig({}).S3_FORCE_PATH_STYLE).toBeUndefined()
    expect(parseConfig({ S3_FORCE_PATH_STYLE: 'true' }).S3_FORCE_PATH_STYLE).toBe(true)
  })
})

describe('OIDC configuration', () => {
  const oidc = { AUTH_MODE: 'oidc', OIDC_ISSUER: 'https://auth.example.com/application/o/helpdesk/', OIDC_CLIENT_ID: 'helpdesk', OIDC_CLIENT_SECRET: 'secret' }
  const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/helpdesk', PUBLIC_URL: 'https://help.example.com', SETTINGS_ENCRYPTION_KEY: 'k'.repeat(44), ...oidc }
  const secrets = {
    NUXT_OIDC_SESSION_SECRET: 's'.repeat(48),
    NUXT_OIDC_TOKEN_KEY: Buffer.alloc(32, 7).toString('base64'),
    NUXT_OIDC_AUTH_SESSION_SECRET: 'a'.repeat(48),
  }

  it('needs the identity provider, naming each missing variable', () => {
    expect(() => parseConfig({ AUTH_MODE: 'oidc' })).toThrow(/OIDC_ISSUER is required.*OIDC_CLIENT_ID is required.*OIDC_CLIENT_SECRET is required/)
    expect(parseConfig({ ...oidc, ...secrets }).OIDC_GROUP_CLAIM).toBe('groups')
    expect(parseConfig({ ...oidc, ...secrets }).OIDC_GROUP_PREFIX).toBe('helpdesk')
  })

  it('needs nuxt-oidc-auth\'s secrets in development too (the module reads them from the environment)', () => {
    for (const name of Object.keys(secrets)) {
      expect(() => parseConfig({ ...oidc, ...secrets, [name]: '' })).toThrow(new RegExp(`${name} is required when AUTH_MODE=oidc`))
    }
  })

  it('refuses production without each nuxt-oidc-auth secret or with sessions in memory', () => {
    for (const name of ['NUXT_OIDC_SESSION_SECRET', 'NUXT_OIDC_TOKEN_KEY', 'NUXT_OIDC_AUTH_SESSION_SECRET']) {
      expect(() => parseConfig({ ...production, ...secrets, REDIS_URL: 'redis://redis:6379', [name]: '' }))
        .toThrow(new RegExp(`${name} is required when AUTH_MODE=oidc`))
    }
    expect(() => parseConfig({ ...production, ...secrets })).toThrow(/REDIS_URL is required when AUTH_MODE=oidc/)
    expect(() => parseConfig({ ...production, ...secrets, REDIS_URL: 'redis://redis:6379' })).not.toThrow()
  })

  it('refuses secrets too weak to protect sessions', () => {
    expect(() => parseConfig({ ...oidc, ...secrets, NUXT_OIDC_SESSION_SECRET: 'short' })).toThrow(/NUXT_OIDC_SESSION_SECRET: must be at least 48/)
    expect(() => parseConfig({ ...oidc, ...secrets, NUXT_OIDC_TOKEN_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/NUXT_OIDC_TOKEN_KEY: must be the base64 of 32/)
    expect(() => parseConfig({ ...oidc, ...secrets, REDIS_URL: 'http://redis' })).toThrow(/REDIS_URL/)
  })

  it('says which development defaults an OIDC start relies on', () => {
    expect(embeddedDefaults(parseConfig({ ...oidc, ...secrets }))).toEqual([
      'embedded PostgreSQL (PGlite) in .data/db',
      'a generated settings encryption key in .data/settings-key',
      'attachments on local disk in .data/uploads (unless S3 is set in the admin area)',
      'sessions in memory (lost on restart, one process only)',
      'rate limits counted in memory (one process only)',
      'no SMTP_HOST: mail is kept in the outbox (Admin → Mail), nothing is sent',
    ])
    expect(embeddedDefaults(parseConfig({ ...oidc, ...secrets, REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://db/x', SETTINGS_ENCRYPTION_KEY: 'k'.repeat(44), S3_BUCKET: 'helpdesk', SMTP_HOST: 'smtp.example.com', MAIL_FROM: 'Helpdesk <support@example.com>' }))).toEqual([])
  })
})
