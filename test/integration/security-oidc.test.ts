import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Redis from 'ioredis'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { freePort, startApp } from '../fixtures/app'
import { Client } from '../fixtures/client'
import type { TestIdp } from '../fixtures/idp'
import { oidcAppEnv, startIdp, testRedisUrl } from '../fixtures/idp'

/** The OIDC edges of issue 10 (items 1, 4 and 5), against a real OpenID provider. */
const prefix = `hd-sec-${randomBytes(4).toString('hex')}`
let idp: TestIdp
let app: RunningApp
let redis: Redis
let owner: postgres.Sql
let people = 0
beforeAll(async () => {
  const port = await freePort()
  idp = await startIdp({ appUrls: [`http://127.0.0.1:${port}`], accessTokenTtl: 60 })
  // No local secret: the app must not make one up in OIDC mode.
  app = await startApp({ ...oidcAppEnv(idp, prefix), PORT: String(port), AUTH_LOCAL_SECRET: '' })
  redis = new Redis(testRedisUrl)
  owner = postgres(app.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
})
afterAll(async () => {
  await owner?.end()
  await app?.stop()
  await idp?.stop()
  if (redis) {
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    await redis.quit()
  }
})

const sessionKeys = async () => (await redis.keys(`${prefix}:oidc:*`)).filter(k => !k.includes(':user:'))
function person(options: { email?: string, emailVerified?: boolean } = {}) {
  const login = `sec${++people}`
  idp.accounts.set(login, { email: options.email ?? `${login}@example.test`, name: `Person ${people}`, groups: ['helpdesk-agents'], emailVerified: options.emailVerified })
  return login
}

/** Signs in at the IdP and stops where the IdP sends the browser back: the callback URL with code and state. */
async function callbackUrl(client: Client, login: string): Promise<string> {
  const page = await client.visit('/auth/oidc/login?redirect=%2F')
  const action = new URL(/<form[^>]*action="([^"]+)"/.exec(page.body)![1]!, page.url).href
  let res = await client.request('POST', action, new URLSearchParams({ prompt: 'login', login, password: 'any password' }))
  let url = action
  for (let hops = 0; res.headers.get('location') && hops < 20; hops++) {
    url = new URL(res.headers.get('location')!, url).href
    if (url.startsWith(`${app.url}/auth/oidc/callback`)) return url
    res = await client.request('GET', url)
  }
  throw new Error(`the IdP did not send the browser back: ${url}`)
}

describe('return-to addresses after single sign-on (1)', () => {
  it('lands on this origin whatever the return-to value says', async () => {
    for (const value of ['/\t/evil.example/', '/\\evil.example', 'https://evil.example/x']) {
      const landed = await new Client(app.url).signInWithIdp(person(), value)
      expect(new URL(landed).origin, value).toBe(app.url)
    }
    expect(await new Client(app.url).signInWithIdp(person(), '/tickets?status=open')).toBe(`${app.url}/tickets?status=open`)
  })
})

describe('the sign-in callback (5)', () => {
  it('stops a callback whose state is not this browser\'s before the code is redeemed', async () => {
    const attacker = new Client(app.url)
    const url = await callbackUrl(attacker, person())
    const before = await sessionKeys()
    // The victim's browser is sent to the attacker's callback (login CSRF), with or without a sign-in of its own under way.
    const victim = new Client(app.url)
    await victim.visit('/auth/oidc/login?redirect=%2F')
    const answer = await victim.request('GET', url)
    expect(answer.status).toBe(302)
    expect(answer.headers.get('location')).toMatch(/^\/signed-out/)
    expect((await victim.get('/api/me')).status).toBe(401)
    expect((await new Client(app.url).request('GET', url)).headers.get('location')).toMatch(/^\/signed-out/)
    expect(await sessionKeys()).toEqual(before)
    // The code was not redeemed: the browser that started the sign-in can still finish it.
    const finished = await attacker.visit(url)
    expect(finished.url).toBe(`${app.url}/`)
    expect((await attacker.get('/api/me')).status).toBe(200)
  })
})

describe('sign-out (5)', () => {
  it('is a POST with the CSRF check: a GET or another site cannot sign anyone out', async () => {
    const client = new Client(app.url)
    await client.signInWithIdp(person())
    expect((await client.get('/auth/oidc/logout')).status).toBe(404)
    expect((await client.request('POST', '/api/auth/logout', {}, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await client.get('/api/me')).status).toBe(200)
    const out = await client.post('/api/auth/logout')
    expect(out.status).toBe(200)
    expect(out.body.redirect.startsWith(idp.issuer)).toBe(true)
    expect((await client.get('/api/me')).status).toBe(401)
  })
})

describe('linking accounts by email (5)', () => {
  it('takes over an existing account only when the IdP says the email is verified', async () => {
    const [existing] = await owner<{ id: string }[]>`insert into users (email, name, roles) values ('boss@example.test', 'The boss', '{admin}') returning id`
    const unverified = new Client(app.url)
    await unverified.signInWithIdp(person({ email: 'boss@example.test', emailVerified: false }))
    const me = await unverified.get('/api/me')
    expect(me.body?.id).not.toBe(existing!.id)
    const [row] = await owner<{ subject: string | null }[]>`select subject from users where id = ${existing!.id}`
    expect(row!.subject).toBeNull()

    const verified = new Client(app.url)
    await verified.signInWithIdp(person({ email: 'boss@example.test', emailVerified: true }))
    expect((await verified.get('/api/me')).body.id).toBe(existing!.id)
  })
})

describe('local sessions in OIDC mode (4)', () => {
  it('ignores an hd_auth cookie entirely and makes up no local secret', async () => {
    const client = new Client(app.url)
    client.cookie = 'hd_auth=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    expect((await client.get('/api/me')).status).toBe(401)
    expect((await client.post('/api/auth/logout')).status).toBe(200)
    expect(existsSync(join(app.dataDir, 'session-secret'))).toBe(false)
  })
})
