import { describe, expect, it } from 'vitest'
import { ConfigError, embeddedDefaults, parseConfig } from '../../server/utils/config'

describe('configuration', () => {
  it('starts with embedded defaults when nothing is set', () => {
    const config = parseConfig({})
    expect(config.AUTH_MODE).toBe('local')
    expect(config.VISIBILITY_ENABLED).toBe(true)
    expect(config.MAX_PAGE_SIZE).toBe(100)
    expect(embeddedDefaults(config)).toEqual([
      'embedded PostgreSQL (PGlite) in .data/db',
      'a generated session secret in .data/session-secret',
      'rate limits counted in memory (one process only)',
    ])
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
    }
    expect(() => parseConfig({
      NODE_ENV: 'production',
      AUTH_LOCAL_SECRET: 'x'.repeat(40),
      DATABASE_URL: 'postgres://db/helpdesk',
      PUBLIC_URL: 'https://help.example.com',
    })).not.toThrow()
  })

  it('names the variable that has a bad value', () => {
    expect(() => parseConfig({ MAX_PAGE_SIZE: 'lots' })).toThrow(/MAX_PAGE_SIZE/)
    expect(() => parseConfig({ AUTH_LOCAL_SECRET: 'short' })).toThrow(/AUTH_LOCAL_SECRET: must be at least 32/)
    expect(() => parseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/)
    expect(parseConfig({ VISIBILITY_ENABLED: 'false' }).VISIBILITY_ENABLED).toBe(false)
  })
})
