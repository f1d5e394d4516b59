import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import Redis from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { createTestDatabase, freePort, startApp } from '../fixtures/app'
import { Client } from '../fixtures/client'
import type { FaultProxy } from '../fixtures/fault-proxy'
import { startFaultProxy } from '../fixtures/fault-proxy'
import type { TestIdp } from '../fixtures/idp'
import { oidcAppEnv, startIdp, testRedisUrl } from '../fixtures/idp'

const ACCESS_TOKEN_TTL = 2
// Short, so the IdP-down tests below run quickly; the test IdP answers in milliseconds otherwise.
const OIDC_TIMEOUT_MS = 3000
const prefix = `hd-test-${randomBytes(4).toString('hex')}`
let idp: TestIdp
let app: RunningApp
let env: Record<string, string>
let database: Awaited<ReturnType<typeof createTestDatabase>>
let redis: Redis
/** Between the IdP and everyone else (the app and the test's browser-like clients). */
let idpProxy: FaultProxy
const ports: number[] = []

beforeAll(async () => {
  ports.push(await freePort(), await freePort())
  ;[idp, database] = await Promise.all([
    startIdp({
      appUrls: ports.map(p => `http://127.0.0.1:${p}`),
      accessTokenTtl: ACCESS_TOKEN_TTL,
      publicOrigin: async (port) => {
        idpProxy = await startFaultProxy({ port })
        return `http://${idpProxy.address}`
      },
    }),
    createTestDatabase(),
  ])
  env = { ...oidcAppEnv(idp, prefix), DATABASE_URL: database.url, DATABASE_MIGRATION_URL: database.migrationUrl, OIDC_TIMEOUT_MS: String(OIDC_TIMEOUT_MS) }
  redis = new Redis(testRedisUrl)
  app = await startApp({ ...env, PORT: String(ports[0]) })
})
afterAll(async () => {
  await app?.stop()
  await idp?.stop()
  await idpProxy?.stop()
  await database?.drop()
  if (redis) {
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    await redis.quit()
  }
})

/** Keys of server-side sessions (not the per-user index). */
async function sessionKeys(): Promise<Set<string>> {
  const keys = await redis.keys(`${prefix}:oidc:*`)
  return new Set(keys.filter(k => !k.startsWith(`${prefix}:oidc:user:`)))
}

let people = 0
/** A person with an IdP account signs in from a fresh browser; returns the client and their Redis key. */
async function signedIn(groups: string[], from = '/') {
  const login = `person${++people}`
  idp.accounts.set(login, { email: `${login}@example.test`, name: `Person ${people}`, groups })
  const before = await sessionKeys()
  const client = new Client(app.url)
  const landed = await client.signInWithIdp(login, from)
  const added = [...await sessionKeys()].filter(k => !before.has(k))
  expect(added).toHaveLength(1)
  return { client, login, landed, key: added[0]! }
}

/** Lets the access token expire, so the next request must renew the session. */
const expireAccessToken = () => new Promise(r => setTimeout(r, ACCESS_TOKEN_TTL * 1000 + 150))

describe('signing in with the IdP', () => {
  it('goes through the IdP and lands on the page that was asked for, provisioned from the claims', async () => {
    const { client, landed, key, login } = await signedIn(
      ['helpdesk-agents', 'helpdesk-visibility-assigned', 'helpdesk-org-acme', 'helpdesk-org-acme', 'helpdesk-agents', 'Domain Users'],
      '/tickets/new',
    )
    expect(landed).toBe(`${app.url}/tickets/new`)
    const me = await client.get('/api/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ email: `${login}@example.test`, name: expect.stringMatching(/^Person/), roles: ['agent', 'visibility-assigned'], orgs: ['acme'] })

    // The app asks for a refresh token and the groups, as docs/authentik.md promises.
    expect(new Set(idp.authorizationRequests.at(-1)!.get('scope')!.split(' '))).toEqual(new Set(['openid', 'email', 'profile', 'offline_access', 'groups']))
    // The session lives in Redis with an expiry; the cookie only names it.
    const ttl = await redis.ttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(30 * 24 * 3600)
    expect(client.jar.get('nuxt-oidc-auth')!.length).toBeLessThan(1024)
    expect(client.jar.has('hd_signin')).toBe(false)

    // The agent works right away: a ticket in their organisation.
    const ticket = await client.post('/api/tickets', { title: 'Printer on fire', body: 'Smoke from tray 2', org: 'acme' })
    expect(ticket.status).toBe(201)
  })

  it('updates the user from the claims on every sign-in', async () => {
    const { client, login } = await signedIn(['helpdesk-agents', 'helpdesk-org-acme'])
    const first = (await client.get('/api/me')).body
    idp.accounts.set(login, { email: `${login}@example.test`, name: 'Renamed Person', groups: ['helpdesk-managers', 'helpdesk-org-globex'] })
    const again = new Client(app.url)
    await again.signInWithIdp(login)
    const second = (await again.get('/api/me')).body
    expect(second).toEqual({ id: first.id, email: `${login}@example.test`, name: 'Renamed Person', roles: ['manager'], orgs: ['globex'] })
  })

  it('makes someone without helpdesk groups a requester who sees only their own tickets', async () => {
    const agent = await signedIn(['helpdesk-agents', 'helpdesk-org-acme'])
    await agent.client.post('/api/tickets', { title: 'Agent ticket', body: 'not yours', org: 'acme' })
    const { client } = await signedIn(['Domain Users'])
    expect((await client.get('/api/me')).body).toMatchObject({ roles: ['requester'], orgs: [] })
    expect((await client.get('/api/tickets')).body.data).toEqual([])
    expect((await client.get('/api/admin/users')).status).toBe(403)
  })

  it('is anonymous without a session, and /readyz checks Redis', async () => {
    const anonymous = new Client(app.url)
    expect((await anonymous.get('/api/me')).status).toBe(401)
    // No cookie is handed out to anonymous callers.
    expect(anonymous.jar.size).toBe(0)
    expect((await anonymous.post('/api/auth/login', { email: 'a@example.test', password: 'whatever-password' })).status).toBe(404)
    expect(await (await fetch(`${app.url}/readyz`)).json()).toEqual({ status: 'ready', checks: { db: 'ok', redis: 'ok', storage: 'ok' } })
  })
})

describe('silent renewal', () => {
  it('renews the session on the server when the access token expires; the user notices nothing', async () => {
    const { client } = await signedIn(['helpdesk-agents'])
    const cookie = client.cookie
    const renewals = idp.refreshes.granted
    await expireAccessToken()
    const me = await client.get('/api/me')
    expect(me.status).toBe(200)
    expect(idp.refreshes.granted).toBe(renewals + 1)
    expect((await client.get('/api/tickets')).status).toBe(200)
    expect(client.cookie).toBe(cookie)
  })

  it('renews once for 8 parallel requests at the moment of expiry, logging none of them out', async () => {
    const { client } = await signedIn(['helpdesk-agents', 'helpdesk-org-acme'])
    const { granted, refused } = idp.refreshes
    await expireAccessToken()
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => client.get(i % 2 ? '/api/me' : '/api/tickets')))
    expect(replies.map(r => r.status)).toEqual(Array(8).fill(200))
    expect(idp.refreshes.granted).toBe(granted + 1)
    expect(idp.refreshes.refused).toBe(refused)
    // The rotated refresh token was kept: the next renewal works too.
    await expireAccessToken()
    expect((await client.get('/api/me')).status).toBe(200)
  })

  it('keeps exactly the IdP’s current groups across 5 renewals, and the cookie does not grow', async () => {
    const { client, login } = await signedIn(['helpdesk-agents', 'helpdesk-org-acme', 'helpdesk-org-globex', 'helpdesk-agents'])
    const cookie = client.cookie
    for (let i = 0; i < 5; i++) {
      await expireAccessToken()
      const me = await client.get('/api/me')
      expect(me.status).toBe(200)
      expect(me.body).toMatchObject({ roles: ['agent'], orgs: ['acme', 'globex'] })
    }
    expect(client.cookie).toBe(cookie)
    // A group removed at the IdP is gone after the next renewal, not appended to.
    idp.accounts.get(login)!.groups = ['helpdesk-org-acme']
    await expireAccessToken()
    expect((await client.get('/api/me')).body).toMatchObject({ roles: ['requester'], orgs: ['acme'] })
  })

  it('ends the session when the IdP refuses the refresh token: a 401, and the Redis entry is gone', async () => {
    const { client, login, key } = await signedIn(['helpdesk-agents'])
    await idp.revokeRefreshTokens(login)
    await expireAccessToken()
    expect((await client.get('/api/me')).status).toBe(401)
    expect(await redis.exists(key)).toBe(0)
  })
})

describe('several app processes', () => {
  it('keeps the session across an app restart', async () => {
    const { client } = await signedIn(['helpdesk-agents'])
    const me = (await client.get('/api/me')).body
    await app.kill()
    app = await startApp({ ...env, PORT: String(ports[0]) })
    expect((await client.get('/api/me')).body).toEqual(me)
  })

  it('shares sessions between two replicas, which renew them together without logging anyone out', async () => {
    const replica = await startApp({ ...env, PORT: String(ports[1]) })
    try {
      const { client } = await signedIn(['helpdesk-agents'])
      const other = new Client(replica.url)
      other.cookie = client.cookie
      const me = (await client.get('/api/me')).body
      expect((await other.get('/api/me')).body).toEqual(me)

      const { granted, refused } = idp.refreshes
      await expireAccessToken()
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? client : other).get('/api/me')))
      expect(replies.map(r => r.status)).toEqual(Array(8).fill(200))
      expect(idp.refreshes.granted).toBe(granted + 1)
      expect(idp.refreshes.refused).toBe(refused)
    }
    finally {
      await replica.kill()
    }
  })

  it('lets a revocation or a sign-out on one replica reach the session the other one remembers', async () => {
    const replica = await startApp({ ...env, PORT: String(ports[1]) })
    try {
      const admin = await signedIn(['helpdesk-admins'])
      const remembered = async () => {
        const { client } = await signedIn(['helpdesk-agents'])
        const other = new Client(replica.url)
        other.cookie = client.cookie
        // Both processes have just looked the session up, and remember it for a few seconds.
        expect((await client.get('/api/me')).status).toBe(200)
        expect((await other.get('/api/me')).status).toBe(200)
        return { client, other }
      }

      const revoked = await remembered()
      const { id } = (await revoked.client.get('/api/me')).body
      expect((await admin.client.delete(`/api/admin/users/${id}/sessions`)).status).toBe(204)
      expect((await revoked.other.get('/api/me')).status).toBe(401)

      const signedOut = await remembered()
      expect((await signedOut.client.post('/api/auth/logout')).status).toBe(200)
      // The copy of the cookie in another browser, on the other replica, is signed out too.
      expect((await signedOut.other.get('/api/me')).status).toBe(401)
    }
    finally {
      await replica.kill()
    }
  })
})

describe('ending sessions', () => {
  it('lets an admin revoke every session of a user: their next request is a 401', async () => {
    const admin = await signedIn(['helpdesk-admins'])
    const target = await signedIn(['helpdesk-agents'])
    const secondBrowser = new Client(app.url)
    await secondBrowser.signInWithIdp(target.login)
    const { id } = (await target.client.get('/api/me')).body

    expect((await target.client.delete(`/api/admin/users/${id}/sessions`)).status).toBe(403)
    expect((await admin.client.delete('/api/admin/users/00000000-0000-4000-8000-000000000000/sessions')).status).toBe(404)
    const revoked = await admin.client.delete(`/api/admin/users/${id}/sessions`)
    expect(revoked.status).toBe(204)
    expect(revoked.body).toBeNull()

    expect((await target.client.get('/api/me')).status).toBe(401)
    expect((await secondBrowser.get('/api/me')).status).toBe(401)
    expect(await redis.exists(target.key)).toBe(0)
    expect((await admin.client.get('/api/me')).status).toBe(200)
    // Signing in again afterwards works.
    const fresh = new Client(app.url)
    await fresh.signInWithIdp(target.login)
    expect((await fresh.get('/api/me')).status).toBe(200)
  })

  it('leaves roles to the IdP, and a deactivated user’s sessions end at once', async () => {
    const admin = await signedIn(['helpdesk-admins'])
    const target = await signedIn(['helpdesk-agents', 'helpdesk-org-acme'])
    const { id } = (await target.client.get('/api/me')).body
    const promote = await admin.client.patch(`/api/admin/users/${id}`, { role: 'admin' })
    expect(promote.status).toBe(400)
    expect(promote.body.message).toMatch(/identity provider/)
    expect((await target.client.get('/api/me')).body.roles).toEqual(['agent'])

    expect((await admin.client.patch(`/api/admin/users/${id}`, { active: false })).status).toBe(200)
    expect((await target.client.get('/api/me')).status).toBe(401)
    expect(await redis.exists(target.key)).toBe(0)
  })

  it('signs out here and at the IdP: Redis entry gone, and the IdP asks for the login again', async () => {
    const { client, key } = await signedIn(['helpdesk-agents'])
    const out = await client.post('/api/auth/logout')
    expect(out.status).toBe(200)
    const endSession = new URL(out.body.redirect)
    expect(endSession.href.startsWith(`${idp.issuer}session/end`)).toBe(true)
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/)
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(app.url)
    expect(await redis.exists(key)).toBe(0)
    expect(client.jar.has('nuxt-oidc-auth')).toBe(false)
    expect((await client.get('/api/me')).status).toBe(401)

    // Confirm on the IdP's end-session page: it sends the browser back to the app, which,
    // signed out here and there, lands on the IdP's login page.
    const confirm = await client.visit(endSession.href)
    const form = /<form[^>]*action="([^"]+)"[\s\S]*?name="xsrf" value="([^"]+)"/.exec(confirm.body)!
    const confirmed = await client.request('POST', new URL(form[1]!, confirm.url).href, new URLSearchParams({ xsrf: form[2]!, logout: 'yes' }))
    expect(new URL(confirmed.headers.get('location')!).href).toBe(new URL(app.url).href)
    const back = await client.visit(confirmed.headers.get('location')!)
    expect(back.url.startsWith(idp.issuer)).toBe(true)
    expect(back.body).toContain('name="login"')
  })

  it('shows the signed-out page instead of starting sign-in again when the last one never came back', async () => {
    const client = new Client(app.url)
    const first = await client.get('/auth/oidc/login?redirect=/tickets/new')
    expect(first.headers.get('location')).toMatch(new RegExp(`^${idp.issuer}auth\\?`))
    const bounced = await client.get('/auth/oidc/login?redirect=/tickets/new')
    expect(bounced.status).toBe(302)
    expect(bounced.headers.get('location')).toBe(`/signed-out?redirect=${encodeURIComponent('/tickets/new')}`)
    const page = await client.visit('/signed-out?redirect=/tickets/new')
    expect(page.body).toContain('You are signed out')
    // The page's button asks on purpose (retry) and goes to the IdP.
    const retry = await client.get('/auth/oidc/login?retry=1&redirect=/tickets/new')
    expect(retry.headers.get('location')).toMatch(new RegExp(`^${idp.issuer}auth\\?`))
  })
})

describe('the identity provider down', () => {
  // Longer-lived tokens here, so "while the token is fresh" holds for a few requests on a busy machine.
  const TTL = 4
  beforeAll(() => {
    idp.accessTokenTtl = TTL
  })
  // A failed test leaves the IdP reachable for the next one.
  afterEach(() => idpProxy.restore())
  afterAll(() => {
    idp.accessTokenTtl = ACCESS_TOKEN_TTL
  })
  const patience = () => AbortSignal.timeout(OIDC_TIMEOUT_MS + 5000)
  const until = (at: number) => new Promise(r => setTimeout(r, Math.max(0, at - Date.now())))
  async function failures(): Promise<number> {
    const text = await (await fetch(`${app.url}/metrics`)).text()
    const line = text.split('\n').find(l => l.startsWith('helpdesk_dependency_failures_total{dependency="identity provider"}'))
    return line ? Number(line.split(' ').at(-1)) : 0
  }

  for (const fault of ['cut', 'blackhole'] as const) {
    it(`keeps the session while the IdP is ${fault === 'cut' ? 'refusing connections' : 'not answering'}: fresh tokens work, renewal answers 503, and the next request after it is back renews`, async () => {
      const { client, key } = await signedIn(['helpdesk-agents'])
      const signedInAt = Date.now()
      const cookie = client.cookie
      const { granted } = idp.refreshes
      const counted = await failures()
      idpProxy[fault]()

      // Until the access token must be renewed, nothing needs the IdP.
      expect((await client.get('/api/me')).status).toBe(200)
      expect((await client.post('/api/tickets', { title: `IdP ${fault}`, body: 'still working' })).status).toBe(201)
      const stored = await redis.get(key)

      await until(signedInAt + TTL * 1000 + 150)
      const renewal = await client.fetch('/api/tickets', { signal: patience() })
      expect(renewal.status).toBe(503)
      expect((await renewal.json()).message).toBe('The sign-in service is unavailable. Try again in a moment.')
      expect(renewal.headers.get('retry-after')).toBeTruthy()
      // The gateway check says "unavailable", not "signed out".
      expect((await fetch(`${app.url}/api/auth/validate`, { headers: { cookie }, signal: patience() })).status).toBe(503)
      // Not signed out: the Redis entry, with its refresh token, is untouched.
      expect(await redis.get(key)).toBe(stored)
      expect(await redis.ttl(key)).toBeGreaterThan(0)
      expect(client.cookie).toBe(cookie)
      expect(await failures()).toBeGreaterThan(counted)
      expect(app.output()).toContain('session renewal: the identity provider is unreachable')

      idpProxy.restore()
      const me = await client.get('/api/me')
      expect(me.status).toBe(200)
      expect(idp.refreshes.granted).toBe(granted + 1)
      expect((await client.get('/api/tickets')).body.data.map((t: { title: string }) => t.title)).toContain(`IdP ${fault}`)
      expect(client.cookie).toBe(cookie)
    })

    it(`answers a new sign-in with a page saying the sign-in service is not answering while it is ${fault === 'cut' ? 'refusing connections' : 'not answering'}, and signs in once it is back`, async () => {
      idp.accounts.set(`newcomer-${fault}`, { email: `newcomer-${fault}@example.test`, name: 'Newcomer', groups: ['helpdesk-agents'] })
      const client = new Client(app.url)
      const asked = idp.authorizationRequests.length
      idpProxy[fault]()

      const start = await client.fetch('/auth/oidc/login?redirect=/tickets/new', { signal: patience() })
      expect(start.status).toBe(503)
      expect(start.headers.get('content-type')).toMatch(/^text\/html/)
      expect(start.headers.get('location')).toBeNull()
      const page = await start.text()
      expect(page).toContain('<h1>Sign-in is unavailable</h1>')
      expect(page).toContain('The sign-in service is not answering right now. Try again in a minute.')
      const retry = /<a href="([^"]+)">Try again<\/a>/.exec(page)![1]!.replaceAll('&amp;', '&')
      expect(retry).toBe('/auth/oidc/login?retry=1&redirect=%2Ftickets%2Fnew')
      // The app's own ways in end on the same page: /login, and a page that needs signing in.
      for (const from of ['/login?redirect=/tickets/new', '/tickets/new']) {
        const landed = await client.visit(from)
        expect(landed.status).toBe(503)
        expect(landed.body).toContain('The sign-in service is not answering right now.')
      }
      expect(idp.authorizationRequests.length).toBe(asked)

      idpProxy.restore()
      const login = await client.visit(retry)
      expect(login.url.startsWith(idp.issuer)).toBe(true)
      const action = /<form[^>]*action="([^"]+)"/.exec(login.body)![1]!
      const done = await client.visit(new URL(action, login.url).toString(), { method: 'POST', body: new URLSearchParams({ prompt: 'login', login: `newcomer-${fault}`, password: 'any password' }) })
      expect(done.url).toBe(`${app.url}/tickets/new`)
      expect((await client.get('/api/me')).body.name).toBe('Newcomer')
    })
  }

  it('lets the app start while the IdP is down (its discovery is not kept across restarts): local pages and /readyz answer, sessions wait for it', async () => {
    const { client, key } = await signedIn(['helpdesk-agents'])
    const signedInAt = Date.now()
    const stored = await redis.get(key)
    await app.kill()
    idpProxy.cut()
    app = await startApp({ ...env, PORT: String(ports[0]) })
    // /readyz has no IdP check: signed-in work does not need it until a renewal.
    expect(await (await fetch(`${app.url}/readyz`)).json()).toEqual({ status: 'ready', checks: { db: 'ok', redis: 'ok', storage: 'ok' } })
    expect((await new Client(app.url).visit('/signed-out')).body).toContain('You are signed out')

    await until(signedInAt + TTL * 1000 + 150)
    const renewal = await client.get('/api/me')
    expect(renewal.status).toBe(503)
    expect(renewal.body.message).toBe('The sign-in service is unavailable. Try again in a moment.')
    expect(await redis.get(key)).toBe(stored)
    const start = await new Client(app.url).visit('/login')
    expect(start.status).toBe(503)
    expect(start.body).toContain('The sign-in service is not answering right now.')

    idpProxy.restore()
    expect((await client.get('/api/me')).status).toBe(200)
  }, 60_000) // an app start, like the hooks'
})

describe('start-up', () => {
  it('refuses production without the nuxt-oidc-auth secrets or Redis, naming them', () => {
    const run = spawnSync(process.execPath, [resolve('.output/server/index.mjs')], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        PORT: '0',
        DATABASE_URL: 'postgres://127.0.0.1/x',
        PUBLIC_URL: 'https://help.example.com',
        AUTH_MODE: 'oidc',
        OIDC_ISSUER: idp.issuer,
        OIDC_CLIENT_ID: 'helpdesk',
        OIDC_CLIENT_SECRET: 'secret',
      },
      encoding: 'utf8',
      timeout: 20_000,
    })
    expect(run.status).toBe(1)
    for (const name of ['NUXT_OIDC_SESSION_SECRET', 'NUXT_OIDC_TOKEN_KEY', 'NUXT_OIDC_AUTH_SESSION_SECRET', 'REDIS_URL']) {
      expect(run.stderr).toContain(`${name} is required`)
    }
  })
})
