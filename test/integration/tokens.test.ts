import { createPublicKey } from 'node:crypto'
import { SignJWT, UnsecuredJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import { Client, signedInAdmin } from '../fixtures/client'
import { metricValue } from '../fixtures/metrics'
import type { TokenIssuer } from '../fixtures/token-issuer'
import { startTokenIssuer } from '../fixtures/token-issuer'

let app: RunningApp
let idp: TokenIssuer
beforeAll(async () => {
  idp = await startTokenIssuer()
  app = await startApp({
    OIDC_ISSUER: idp.issuer,
    OIDC_JWKS_URL: idp.jwksUrl,
    OIDC_AUDIENCE: idp.audience,
    JWT_CLOCK_SKEW_SECONDS: '5',
    JWKS_MIN_REFETCH_SECONDS: '2',
  })
})
afterAll(async () => {
  await app?.stop()
  await idp?.stop()
})

const userClaims = (sub: string, scope = 'tickets:read tickets:write') => ({ sub, email: `${sub}@example.test`, name: `User ${sub}`, scope })

async function validate(token: string | undefined) {
  const res = await fetch(`${app.url}/api/auth/validate`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  return { status: res.status, body: await res.text(), headers: res.headers }
}

describe('bearer tokens from the IdP', () => {
  it('acts as the user the token names, created on first sight, within the token’s scopes', async () => {
    const token = await idp.mint(userClaims('u-100'))
    const api = Client.withToken(app.url, token)
    const me = await api.get('/api/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ email: 'u-100@example.test', name: 'User u-100', roles: ['requester'] })
    const created = await api.post('/api/tickets', { title: 'From a script', body: 'Opened with an API token' })
    expect(created.status).toBe(201)
    expect(created.body.requester).toEqual({ id: me.body.id, name: 'User u-100' })
    expect((await api.get('/api/tickets')).body.data.map((t: { id: string }) => t.id)).toEqual([created.body.id])

    const readOnly = Client.withToken(app.url, await idp.mint(userClaims('u-100', 'tickets:read')))
    expect((await readOnly.get(`/api/tickets/${created.body.id}`)).status).toBe(200)
    const refused = await readOnly.post('/api/tickets', { title: 'Not allowed', body: 'read-only token' })
    expect(refused.status).toBe(403)
    expect(refused.body.message).toMatch(/tickets:write/)
  })

  it('keeps the admin area to tokens with the admin scope, and the scope adds no role', async () => {
    const withoutScope = Client.withToken(app.url, await idp.mint(userClaims('u-101', 'tickets:read tickets:write')))
    expect((await withoutScope.get('/api/admin/users')).status).toBe(403)
    const requesterWithScope = Client.withToken(app.url, await idp.mint(userClaims('u-102', 'tickets:read admin')))
    expect((await requesterWithScope.get('/api/admin/users')).status).toBe(403)
  })

  it('lets a machine client act with its scopes only', async () => {
    const reader = Client.withToken(app.url, await idp.mint({ client_id: 'monitoring', scope: 'tickets:read' }))
    const list = await reader.get('/api/tickets')
    expect(list.status).toBe(200)
    expect(list.body.data).toEqual([])
    expect((await reader.post('/api/tickets', { title: 'x', body: 'y' })).status).toBe(403)

    const operator = Client.withToken(app.url, await idp.mint({ client_id: 'ops-bot', scope: 'tickets:read tickets:write admin' }))
    const all = await operator.get('/api/tickets')
    expect(all.body.data.length).toBeGreaterThan(0)
    expect((await operator.get('/api/admin/users')).status).toBe(200)
    const me = await operator.get('/api/me')
    expect(me.body).toMatchObject({ name: 'API client ops-bot', roles: ['admin'] })
  })

  it('answers the gateway: 204 with identity headers for a good token, 401 with no body otherwise', async () => {
    const ok = await validate(await idp.mint(userClaims('u-103', 'tickets:read')))
    expect(ok.status).toBe(204)
    expect(ok.body).toBe('')
    expect(ok.headers.get('x-user-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(ok.headers.get('x-user-roles')).toBe('requester')
    expect(ok.headers.get('x-scopes')).toBe('tickets:read')

    const anonymous = await validate(undefined)
    expect(anonymous.status).toBe(401)
    expect(anonymous.body).toBe('')
    const bad = await validate('not-a-jwt')
    expect(bad.status).toBe(401)
    expect(bad.body).toBe('')

    // A browser session is answered the same way, with every scope.
    const admin = await signedInAdmin(app.url)
    const session = await fetch(`${app.url}/api/auth/validate`, { headers: { cookie: admin.cookie } })
    expect(session.status).toBe(204)
    expect(session.headers.get('x-user-roles')).toBe('admin')
    expect(session.headers.get('x-scopes')).toBe('tickets:read,tickets:write,admin')
  })
})

describe('forged and broken tokens', () => {
  it('refuses each with 401 and counts the reason', async () => {
    const good = await idp.mint(userClaims('u-200'))
    const [header, payload, signature] = good.split('.')
    const claims = { ...userClaims('u-200'), iss: idp.issuer, aud: idp.audience, exp: Math.floor(Date.now() / 1000) + 300 }
    const publicPem = createPublicKey({ key: idp.current().publicJwk as any, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
    const stranger = await idp.newKey('RS256')
    const flipped = signature!.slice(0, 10) + (signature![10] === 'A' ? 'B' : 'A') + signature!.slice(11)

    const cases: [string, string, string][] = [
      ['alg none', new UnsecuredJWT(claims).encode(), 'algorithm'],
      ['HS256 signed with the public key', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: idp.current().kid }).sign(new TextEncoder().encode(String(publicPem))), 'algorithm'],
      ['wrong issuer', await idp.mint(userClaims('u-200'), { issuer: 'https://evil.example' }), 'issuer'],
      ['wrong audience', await idp.mint(userClaims('u-200'), { audience: 'another-app' }), 'audience'],
      ['expired (beyond the clock skew)', await idp.mint(userClaims('u-200'), { expiresIn: -60 }), 'expired'],
      ['not valid before a minute from now', await idp.mint(userClaims('u-200'), { notBefore: 60 }), 'not_yet_valid'],
      ['unknown kid', await idp.mint(userClaims('u-200'), { key: stranger }), 'unknown_kid'],
      ['signed by a stranger with our kid', await idp.mint(userClaims('u-200'), { key: stranger, kid: idp.current().kid }), 'signature'],
      ['bad signature', `${header}.${payload}.${flipped}`, 'signature'],
      ['truncated', good.slice(0, good.length - 20), 'signature'],
      ['garbage', 'abc.def', 'malformed'],
    ]
    for (const [name, token, reason] of cases) {
      const before = await metricValue(app.url, `auth_failures_total{reason="${reason}"}`)
      const res = await Client.withToken(app.url, token).get('/api/me')
      expect(res.status, name).toBe(401)
      expect(res.headers.get('www-authenticate'), name).toMatch(/invalid_token/)
      expect(await metricValue(app.url, `auth_failures_total{reason="${reason}"}`), name).toBe(before + 1)
    }
    // The genuine token still works after all that.
    expect((await Client.withToken(app.url, good).get('/api/me')).status).toBe(200)
  })

  it('lends nothing of a remembered token to a token that ends with its signature', async () => {
    const good = await idp.mint(userClaims('u-202'))
    const warm = await validate(good)
    expect(warm.status).toBe(204)
    // Another user's claims under the remembered token's signature (the memory is found by its end).
    const [header, , signature] = good.split('.')
    const otherClaims = Buffer.from(JSON.stringify({ ...userClaims('u-203', 'tickets:read tickets:write admin'), iss: idp.issuer, aud: idp.audience, exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url')
    const before = await metricValue(app.url, 'auth_failures_total{reason="signature"}')
    const forged = await validate(`${header}.${otherClaims}.${signature}`)
    expect(forged.status).toBe(401)
    expect(forged.headers.get('x-user-id')).toBeNull()
    expect(await metricValue(app.url, 'auth_failures_total{reason="signature"}')).toBe(before + 1)
    // The genuine token is still known as its user.
    const again = await validate(good)
    expect(again.status).toBe(204)
    expect(again.headers.get('x-user-id')).toBe(warm.headers.get('x-user-id'))
  })

  it('accepts a token within the clock skew', async () => {
    const justExpired = await idp.mint(userClaims('u-201'), { expiresIn: -2 })
    expect((await Client.withToken(app.url, justExpired).get('/api/me')).status).toBe(200)
  })

  it('does not fall back to the session cookie when the token is bad', async () => {
    const admin = await signedInAdmin(app.url)
    const res = await admin.request('GET', '/api/me', undefined, { authorization: 'Bearer broken' })
    expect(res.status).toBe(401)
  })
})

describe('signing key rotation', () => {
  it('picks up a new key without a restart, and garbage kids cannot make it hammer the IdP', async () => {
    const oldToken = await idp.mint(userClaims('u-300'))
    expect((await validate(oldToken)).status).toBe(204)
    // The IdP rotates: the new key is published, the old one withdrawn.
    await idp.rotate({ alg: 'ES256', dropOld: true })
    await new Promise(r => setTimeout(r, 2100)) // JWKS_MIN_REFETCH_SECONDS
    const refreshesBefore = await metricValue(app.url, 'jwks_refreshes_total{trigger="unknown_kid",result="ok"}')
    const fetchesBefore = idp.jwksFetches()
    const newToken = await idp.mint(userClaims('u-300'))
    expect((await validate(newToken)).status).toBe(204)
    expect(idp.jwksFetches()).toBe(fetchesBefore + 1)
    expect(await metricValue(app.url, 'jwks_refreshes_total{trigger="unknown_kid",result="ok"}')).toBe(refreshesBefore + 1)
    // Tokens already verified stay valid until they expire; new ones need a published key.
    expect((await validate(oldToken)).status).toBe(204)

    const forger = await idp.newKey('RS256')
    const garbage = await Promise.all(Array.from({ length: 30 }, (_, i) => idp.mint(userClaims(`u-30${i}`), { key: forger, kid: `garbage-${i}` })))
    const answers = await Promise.all(garbage.map(validate))
    expect(answers.map(a => a.status)).toEqual(garbage.map(() => 401))
    expect(idp.jwksFetches()).toBe(fetchesBefore + 1)
  })
})
