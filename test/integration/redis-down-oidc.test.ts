import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { freePort, startApp } from '../fixtures/app'
import { Client } from '../fixtures/client'
import type { FaultProxy } from '../fixtures/fault-proxy'
import { startFaultProxy } from '../fixtures/fault-proxy'
import type { TestIdp } from '../fixtures/idp'
import { oidcAppEnv, startIdp, testRedisUrl } from '../fixtures/idp'

/**
 * AUTH_MODE=oidc keeps its sessions in Redis, so while Redis is away a signed-in person's
 * requests cannot be checked (after the few seconds the app remembers a session): they answer
 * 503 within REDIS_TIMEOUT_MS, in words, and the session is still there (same cookie, no sign-in) once Redis is back.
 */
const REDIS_TIMEOUT_MS = 1000
const patience = () => AbortSignal.timeout(REDIS_TIMEOUT_MS + 5000)
const redisTarget = new URL(testRedisUrl)

let idp: TestIdp
let proxy: FaultProxy
let app: RunningApp

beforeAll(async () => {
  const port = await freePort()
  ;[idp, proxy] = await Promise.all([
    // Tokens that outlive the test: what is remembered depends on the outage alone, not on renewal.
    startIdp({ appUrls: [`http://127.0.0.1:${port}`], accessTokenTtl: 300 }),
    startFaultProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) }),
  ])
  app = await startApp({
    ...oidcAppEnv(idp, `hd-redis-down-${randomBytes(4).toString('hex')}`),
    REDIS_URL: `redis://${proxy.address}`,
    REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
    PORT: String(port),
  })
})
afterAll(async () => {
  await app?.stop()
  await proxy?.stop()
  await idp?.stop()
})

describe('Redis down with single sign-on', () => {
  it('answers a signed-in person 503 in words within REDIS_TIMEOUT_MS, refused or stalled, once the few seconds it remembers a session have passed, and keeps the session', async () => {
    idp.accounts.set('rita', { email: 'rita@example.test', name: 'Rita Redis', groups: ['helpdesk-agents'] })
    const client = new Client(app.url)
    await client.signInWithIdp('rita', '/')
    expect((await client.get('/api/me')).status).toBe(200)
    const cookie = client.cookie

    for (const fault of ['cut', 'blackhole'] as const) {
      proxy[fault]()
      // The app remembers a session it looked up a moment ago for a few seconds
      // (session-memo.ts), so the person's next request still works; once that has lapsed,
      // each request needs Redis.
      expect((await client.fetch('/api/me', { signal: patience() })).status).toBe(200)
      await expect.poll(async () => (await client.fetch('/api/me', { signal: patience() })).status, { timeout: 15_000, interval: 500 }).toBe(503)
      const started = Date.now()
      const me = await client.fetch('/api/me', { signal: patience() })
      expect(me.status).toBe(503)
      expect((await me.json()).message).toMatch(/not answering|unavailable/i)
      expect(Date.now() - started).toBeLessThan(REDIS_TIMEOUT_MS + 4000)
      // A gateway asking on the person's behalf hears "unavailable", not "signed out".
      expect((await client.fetch('/api/auth/validate', { signal: patience() })).status).toBe(503)

      proxy.restore()
      await expect.poll(async () => (await client.get('/api/me')).status, { timeout: 15_000 }).toBe(200)
      expect(client.cookie).toBe(cookie)
    }
  })
})
