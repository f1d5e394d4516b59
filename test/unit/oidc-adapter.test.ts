import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as presets from 'nuxt-oidc-auth/runtime/providers/index.js'
import { decryptToken, encryptToken } from 'nuxt-oidc-auth/runtime/server/utils/security.js'
import { configMerger } from 'nuxt-oidc-auth/runtime/server/utils/oidc.js'
import { describe, expect, it } from 'vitest'
import { configureModuleProvider, MODULE_FLOW_COOKIE, MODULE_SESSION_COOKIE, moduleRoutes } from '../../server/services/auth/oidc-adapter'

/**
 * Pins exactly the nuxt-oidc-auth internals server/services/auth/oidc-adapter.ts relies on. When an
 * upgrade changes one of them this fails, instead of sign-in breaking in production.
 */
const root = dirname(createRequire(import.meta.url).resolve('nuxt-oidc-auth/package.json'))
const source = (path: string) => readFileSync(join(root, 'dist', path), 'utf8')

describe('nuxt-oidc-auth internals the app relies on', () => {
  it('is the version the adapter was checked against', () => {
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version).toBe('0.18.0')
  })

  it('merges the generic provider\'s preset under the runtime config, so discovered endpoints written into the preset apply', () => {
    configureModuleProvider({ clientId: 'c', clientSecret: 's', redirectUri: 'https://app/cb', authorizationUrl: 'https://idp/authorize', tokenUrl: 'https://idp/token', openIdConfiguration: { issuer: 'https://idp/' } })
    const merged = configMerger({ scope: ['openid'] }, presets.oidc) as Record<string, unknown>
    expect(merged).toMatchObject({ clientId: 'c', tokenUrl: 'https://idp/token', authorizationUrl: 'https://idp/authorize', scope: ['openid'] })
    expect(source('runtime/server/lib/oidc.js')).toContain('configMerger(useRuntimeConfig().oidc.providers[provider], providerPresets[provider])')
  })

  it('encrypts stored tokens with AES-GCM under NUXT_OIDC_TOKEN_KEY, read from the environment', async () => {
    const key = Buffer.alloc(32, 3).toString('base64')
    const sealed = await encryptToken('a-token', key)
    expect(sealed).toEqual({ encryptedToken: expect.any(String), iv: expect.any(String) })
    expect(await decryptToken(sealed, key)).toBe('a-token')
    expect(source('runtime/server/utils/session.js')).toContain('process.env.NUXT_OIDC_TOKEN_KEY')
  })

  it('keeps its session in the sealed cookie the adapter names, with NUXT_OIDC_SESSION_SECRET', () => {
    const session = source('runtime/server/utils/session.js')
    expect(session).toContain(`const sessionName = "${MODULE_SESSION_COOKIE}"`)
    expect(session).toContain('password: process.env.NUXT_OIDC_SESSION_SECRET')
  })

  it('keeps the sign-in state in the flow cookie the adapter reads, and compares it in the callback', () => {
    const lib = source('runtime/server/lib/oidc.js')
    expect(lib).toContain(`name: "${MODULE_FLOW_COOKIE}",\n    password: process.env.NUXT_OIDC_AUTH_SESSION_SECRET`)
    expect(lib).toContain('state: generateRandomUrlSafeString()')
    expect(lib).toContain('state !== session.data.state')
  })

  it('adds the routes the app lets through, and the ones it keeps closed', () => {
    const module = source('module.mjs')
    for (const route of ['"/api/_auth/session"', '"/api/_auth/refresh"', '`/auth/${provider}/login`', '`/auth/${provider}/callback`', '`/auth/${provider}/logout`']) {
      expect(module).toContain(`route: ${route}`)
    }
    expect([...moduleRoutes]).toEqual(['/auth/oidc/login', '/auth/oidc/callback'])
  })
})
