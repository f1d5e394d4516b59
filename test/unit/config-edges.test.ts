import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../server/utils/config'
import { productionEnv } from '../fixtures/config'

describe('configuration of the production edges', () => {
  const production = productionEnv

  it('refuses a wildcard CORS origin in production, naming ALLOWED_ORIGINS', () => {
    expect(() => parseConfig({ ...production, ALLOWED_ORIGINS: '*' })).toThrow(/ALLOWED_ORIGINS must list exact origins/)
    expect(() => parseConfig({ ...production, ALLOWED_ORIGINS: 'https://a.example.com/path' })).toThrow(/ALLOWED_ORIGINS: https:\/\/a.example.com\/path is not an origin/)
    expect(parseConfig({ ...production, ALLOWED_ORIGINS: 'https://a.example.com, https://b.example.com' }).ALLOWED_ORIGINS).toEqual(['https://a.example.com', 'https://b.example.com'])
    expect(() => parseConfig({ ALLOWED_ORIGINS: '*' })).not.toThrow()
  })

  it('refuses in-memory rate limits when several replicas would each count alone', () => {
    expect(() => parseConfig({ ...production, REPLICAS: '3' })).toThrow(/REDIS_URL is required when REPLICAS=3/)
    expect(() => parseConfig({ ...production, REPLICAS: '3', REDIS_URL: 'redis://redis:6379' })).not.toThrow()
    expect(() => parseConfig({ ...production, REPLICAS: '1' })).not.toThrow()
  })

  it('refuses a JWKS without the issuer and audience to check tokens against', () => {
    expect(() => parseConfig({ ...production, OIDC_JWKS_URL: 'https://idp.example.com/jwks' })).toThrow(/OIDC_ISSUER and OIDC_AUDIENCE are required/)
    expect(() => parseConfig({ ...production, OIDC_JWKS_URL: 'https://idp.example.com/jwks', OIDC_ISSUER: 'https://idp.example.com/', OIDC_AUDIENCE: 'helpdesk' })).not.toThrow()
  })

  it('reads rate limits as requests per window and names a bad one', () => {
    expect(parseConfig({ RATE_LIMIT_LOGIN: '5/30s' }).RATE_LIMIT_LOGIN).toEqual({ points: 5, seconds: 30 })
    expect(parseConfig({ RATE_LIMIT_TICKETS: '100/h' }).RATE_LIMIT_TICKETS).toEqual({ points: 100, seconds: 3600 })
    expect(parseConfig({ RATE_LIMIT_ATTACHMENTS: 'off' }).RATE_LIMIT_ATTACHMENTS).toBeNull()
    expect(parseConfig({}).RATE_LIMIT_LOGIN).toEqual({ points: 10, seconds: 60 })
    expect(() => parseConfig({ RATE_LIMIT_LOGIN: 'lots' })).toThrow(/RATE_LIMIT_LOGIN: must look like 10\/1m/)
    expect(() => parseConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/)
  })
})
