import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import { Client, signedInAdmin } from '../fixtures/client'
import { testRedisUrl } from '../fixtures/idp'
import type { TokenIssuer } from '../fixtures/token-issuer'
import { startTokenIssuer } from '../fixtures/token-issuer'

/** Bearer tokens (issue 10, item 6) on two replicas sharing the database and Redis. */
let idp: TokenIssuer
let first: RunningApp
let second: RunningApp
let admin: Client
beforeAll(async () => {
  idp = await startTokenIssuer()
  const shared = { OIDC_ISSUER: idp.issuer, OIDC_JWKS_URL: idp.jwksUrl, OIDC_AUDIENCE: idp.audience, REDIS_URL: testRedisUrl, REDIS_KEY_PREFIX: `sec-${randomBytes(4).toString('hex')}` }
  first = await startApp(shared)
  second = await startApp({ ...shared, ...first.databaseEnv })
  admin = await signedInAdmin(first.url)
})
afterAll(async () => {
  await second?.kill()
  await first?.stop()
  await idp?.stop()
})

const claims = (sub: string, scope = 'tickets:read tickets:write') => ({ sub, email: `${sub}@example.test`, name: `User ${sub}`, scope })
const validate = (app: RunningApp, token: string) => fetch(`${app.url}/api/auth/validate`, { headers: { authorization: `Bearer ${token}` } }).then(r => r.status)

describe('bearer tokens are access tokens', () => {
  it('refuses ID tokens and tokens without any scope the API knows, also at the gateway', async () => {
    const idToken = await idp.mint({ ...claims('t-1'), nonce: 'n', at_hash: 'x' }, { typ: 'JWT' })
    const noScope = await idp.mint({ sub: 't-1', email: 't-1@example.test', scope: 'openid email profile' })
    const keycloakIdToken = await idp.mint({ ...claims('t-1'), typ: 'ID' }, { typ: 'JWT' })
    const otherType = await idp.mint(claims('t-1'), { typ: 'logout+jwt' })
    for (const token of [idToken, noScope, keycloakIdToken, otherType]) {
      expect(await validate(first, token)).toBe(401)
      expect((await Client.withToken(first.url, token).get('/api/me')).status).toBe(401)
    }
    // Access tokens with or without RFC 9068's typ are accepted.
    expect(await validate(first, await idp.mint(claims('t-1')))).toBe(204)
    expect(await validate(first, await idp.mint(claims('t-1'), { typ: null }))).toBe(204)
  })

  it('takes a user token whose subject equals the client id for that user, not for the client', async () => {
    const token = await idp.mint({ ...claims('ops-bot'), client_id: 'ops-bot', scope: 'tickets:read admin' })
    const me = await Client.withToken(first.url, token).get('/api/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ email: 'ops-bot@example.test', roles: ['requester'] })
    expect((await Client.withToken(first.url, token).get('/api/admin/users')).status).toBe(403)
  })
})

describe('revocation reaches bearer tokens at once, on every replica', () => {
  async function userWithTokens(sub: string) {
    const token = await idp.mint(claims(sub))
    const me = await Client.withToken(first.url, token).get('/api/me')
    expect(me.status).toBe(200)
    // Both replicas have verified and remembered the token.
    expect(await validate(first, token)).toBe(204)
    expect(await validate(second, token)).toBe(204)
    return { id: me.body.id as string, token }
  }

  it('refuses the token on both replicas right after "revoke all sessions"', async () => {
    const { id, token } = await userWithTokens('t-revoked')
    const withoutIat = await idp.mint(claims('t-revoked'), { withoutIssuedAt: true })
    expect(await validate(first, withoutIat)).toBe(204)
    expect((await admin.delete(`/api/admin/users/${id}/sessions`)).status).toBe(204)
    expect(await validate(first, token)).toBe(401)
    await expect.poll(() => validate(second, token), { timeout: 2000 }).toBe(401)
    // A token that does not say when it was issued counts as issued before the revocation.
    expect(await validate(first, withoutIat)).toBe(401)
    // Tokens issued afterwards work again.
    await new Promise(r => setTimeout(r, 1100))
    expect(await validate(second, await idp.mint(claims('t-revoked')))).toBe(204)
  })

  it('refuses the token on both replicas right after deactivation', async () => {
    const { id, token } = await userWithTokens('t-deactivated')
    expect((await admin.patch(`/api/admin/users/${id}`, { active: false })).status).toBe(200)
    expect(await validate(first, token)).toBe(401)
    await expect.poll(() => validate(second, token), { timeout: 2000 }).toBe(401)
  })
})
