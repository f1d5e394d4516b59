import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { adminDatabaseUrl, createTestDatabase, startApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'
import type { FaultProxy } from '../fixtures/fault-proxy'
import { startFaultProxy } from '../fixtures/fault-proxy'
import { testRedisUrl } from '../fixtures/idp'
import type { RunningS3 } from '../fixtures/s3'
import { startS3 } from '../fixtures/s3'

/**
 * What people see when a dependency goes away while Helpdesk runs: the built app talks to the
 * real PostgreSQL, Redis and S3 emulator through a TCP fault proxy that cuts, stalls or slows
 * the connections. Timeouts are shortened so the file runs quickly; "answers" below means the
 * request comes back well before a hang would (the fetch gives up after `patience`).
 */
const DB_TIMEOUT_MS = 1500
const REDIS_TIMEOUT_MS = 1000
const OBJECTSTORE_TIMEOUT_MS = 1500
const patience = (timeoutMs: number) => AbortSignal.timeout(timeoutMs + 5000)

const url = new URL(adminDatabaseUrl)
const postgresTarget = { host: url.hostname, port: Number(url.port || 5432) }
const redisTarget = new URL(testRedisUrl)

async function metric(app: RunningApp, line: string): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text()
  const found = text.split('\n').find(l => l.startsWith(line))
  return found ? Number(found.split(' ').at(-1)) : 0
}

describe('PostgreSQL down', () => {
  let proxy: FaultProxy
  let app: RunningApp
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let owner: postgres.Sql
  let agent: Client

  beforeAll(async () => {
    proxy = await startFaultProxy(postgresTarget)
    database = await createTestDatabase()
    const viaProxy = new URL(database.url)
    viaProxy.host = proxy.address
    app = await startApp({ DATABASE_URL: viaProxy.toString(), DATABASE_MIGRATION_URL: database.migrationUrl, DB_TIMEOUT_MS: String(DB_TIMEOUT_MS) })
    owner = postgres(database.migrationUrl, { max: 1, onnotice: () => {} })
    agent = await userClient(await signedInAdmin(app.url), 'agent')
  })
  afterAll(async () => {
    await app?.stop()
    await owner?.end()
    await database?.drop()
    await proxy?.stop()
  })

  it('answers 503 with a clear message when the database refuses connections, and works again once it is back', async () => {
    // Signed in, but no request of theirs has been answered yet: the app has not looked up their session.
    const quiet = await userClient(await signedInAdmin(app.url), 'requester')
    expect((await agent.post('/api/tickets', { title: 'Before the outage', body: 'fine' })).status).toBe(201)
    proxy.cut()
    // The gateway check says "unavailable", not "signed out", for a session it has to look up; one
    // it remembers from a moment ago (5 s at most) it lets through, to the 503s below.
    expect((await fetch(`${app.url}/api/auth/validate`, { headers: { cookie: quiet.cookie } })).status).toBe(503)
    expect((await fetch(`${app.url}/api/auth/validate`, { headers: { cookie: agent.cookie } })).status).toBe(204)
    const list = await agent.request('GET', '/api/tickets')
    expect(list.status).toBe(503)
    expect(list.body.message).toMatch(/database is not answering/i)
    expect(list.headers.get('retry-after')).toBeTruthy()
    const created = await agent.post('/api/tickets', { title: 'During the outage', body: 'lost?' })
    expect(created.status).toBe(503)
    const ready = await fetch(`${app.url}/readyz`)
    expect(ready.status).toBe(503)
    expect((await ready.json()).checks.db).toBe('error')
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200)

    proxy.restore()
    const again = await agent.get('/api/tickets')
    expect(again.status).toBe(200)
    expect(again.body.data.map((t: { title: string }) => t.title)).toEqual(['Before the outage'])
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200)
    expect(await metric(app, 'helpdesk_dependency_failures_total{dependency="database"}')).toBeGreaterThanOrEqual(2)
  })

  it('serves the first request after a longer outage (the pool tries again at least every fifth of DB_TIMEOUT_MS)', async () => {
    proxy.cut()
    // Four seconds of requests, each refused: postgres.js counts every failed attempt of the pool,
    // and by its own backoff the next attempt would come seconds after the database is back.
    for (const until = Date.now() + 4000; Date.now() < until;) expect((await agent.request('GET', '/api/tickets')).status).toBe(503)
    proxy.restore()
    await new Promise(r => setTimeout(r, 400))
    const t0 = Date.now()
    expect((await agent.request('GET', '/api/tickets')).status).toBe(200)
    expect(Date.now() - t0).toBeLessThan(DB_TIMEOUT_MS)
  })

  it('answers 503 instead of hanging when the database stops answering, and the pool recovers without a restart', async () => {
    await agent.get('/api/tickets')
    proxy.blackhole()
    const stalled = await agent.fetch('/api/tickets', { signal: patience(DB_TIMEOUT_MS) })
    expect(stalled.status).toBe(503)
    expect((await stalled.json()).message).toMatch(/database is not answering/i)
    const ready = await fetch(`${app.url}/readyz`, { signal: patience(DB_TIMEOUT_MS) })
    expect(ready.status).toBe(503)
    proxy.restore()
    for (let i = 0; i < 3; i++) expect((await agent.get('/api/tickets')).status).toBe(200)
    expect((await agent.post('/api/tickets', { title: 'After the stall', body: 'works' })).status).toBe(201)
  })

  it('leaves no half-done write behind when the database becomes too slow in the middle of a change', async () => {
    const [{ tickets: before, events: eventsBefore }] = await owner<{ tickets: number, events: number }[]>`select (select count(*)::int from tickets) as tickets, (select count(*)::int from ticket_events) as events`
    // Every round trip now takes longer than a third of the budget: the change cannot finish in time.
    proxy.delay(DB_TIMEOUT_MS / 3)
    const slow = await agent.fetch('/api/tickets', {
      method: 'POST', body: JSON.stringify({ title: 'Half-done?', body: 'must not be stored' }), headers: { 'content-type': 'application/json' }, signal: patience(3 * DB_TIMEOUT_MS),
    })
    expect(slow.status).toBe(503)
    proxy.restore()
    // Whatever was still on its way settles (rolled back) before the database is asked.
    await new Promise(r => setTimeout(r, 2 * DB_TIMEOUT_MS))
    const [after] = await owner<{ tickets: number, events: number, halfDone: number }[]>`select (select count(*)::int from tickets) as tickets, (select count(*)::int from ticket_events) as events, (select count(*)::int from tickets where title = 'Half-done?') as "halfDone"`
    expect(after).toEqual({ tickets: before, events: eventsBefore, halfDone: 0 })
    expect((await agent.get('/api/tickets')).status).toBe(200)
  })
})

describe('Redis down', () => {
  let proxy: FaultProxy
  let app: RunningApp
  let admin: Client

  beforeAll(async () => {
    proxy = await startFaultProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) })
    app = await startApp({
      REDIS_URL: `redis://${proxy.address}`,
      REDIS_KEY_PREFIX: `faults-${randomBytes(4).toString('hex')}`,
      REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
    })
    admin = await signedInAdmin(app.url)
  })
  afterAll(async () => {
    await app?.stop()
    await proxy?.stop()
  })

  it('keeps sign-in and ticket work going, counting rate limits per process with a warning and a metric', async () => {
    const requester = await userClient(admin, 'requester')
    proxy.cut()
    const signedIn = await new Client(app.url).signIn(requester.user.email, 'a-long-test-password')
    const created = await signedIn.post('/api/tickets', { title: 'Printer on fire', body: 'Redis is down, I am not' })
    expect(created.status).toBe(201)
    expect((await signedIn.post(`/api/tickets/${created.body.id}/comments`, { body: 'Still here' })).status).toBe(201)
    expect((await signedIn.get('/api/tickets')).body.data.map((t: { title: string }) => t.title)).toEqual(['Printer on fire'])

    const ready = await fetch(`${app.url}/readyz`, { signal: patience(REDIS_TIMEOUT_MS) })
    expect(ready.status).toBe(503)
    expect((await ready.json()).checks).toEqual({ db: 'ok', redis: 'error', storage: 'ok' })
    expect(await metric(app, 'rate_limit_local_fallback_total{route="login"}')).toBeGreaterThanOrEqual(1)
    expect(await metric(app, 'rate_limit_local_fallback_total{route="tickets"}')).toBeGreaterThanOrEqual(1)
    expect(app.output()).toContain('rate limits are counted per process')

    proxy.restore()
    await expect.poll(async () => (await fetch(`${app.url}/readyz`)).status, { timeout: 10_000 }).toBe(200)
    const fallbacks = await metric(app, 'rate_limit_local_fallback_total{route="tickets"}')
    expect((await signedIn.post('/api/tickets', { title: 'Back to normal', body: 'shared limits again' })).status).toBe(201)
    expect(await metric(app, 'rate_limit_local_fallback_total{route="tickets"}')).toBe(fallbacks)
  })

  it('keeps working when Redis stops answering instead of refusing connections', async () => {
    proxy.blackhole()
    const created = await admin.fetch('/api/tickets', {
      method: 'POST', body: JSON.stringify({ title: 'Stalled Redis', body: 'still fine' }), headers: { 'content-type': 'application/json' }, signal: patience(REDIS_TIMEOUT_MS),
    })
    expect(created.status).toBe(201)
    const ready = await fetch(`${app.url}/readyz`, { signal: patience(REDIS_TIMEOUT_MS) })
    expect((await ready.json()).checks.redis).toBe('error')
    proxy.restore()
    await expect.poll(async () => (await fetch(`${app.url}/readyz`)).status, { timeout: 10_000 }).toBe(200)
  })
})

describe('object storage down', () => {
  let proxy: FaultProxy
  let s3: RunningS3
  let app: RunningApp
  let agent: Client

  beforeAll(async () => {
    s3 = await startS3()
    proxy = await startFaultProxy({ port: Number(new URL(s3.endpoint).port) })
    app = await startApp({ ...s3.env, S3_ENDPOINT: `http://${proxy.address}`, OBJECTSTORE_TIMEOUT_MS: String(OBJECTSTORE_TIMEOUT_MS) })
    agent = await userClient(await signedInAdmin(app.url), 'agent')
  })
  afterAll(async () => {
    await app?.stop()
    await proxy?.stop()
    await s3?.stop()
  })

  const upload = (ticketId: string, text: string) => {
    const form = new FormData()
    form.append('file', new Blob([text], { type: 'text/plain' }), 'notes.txt')
    return agent.fetch(`/api/tickets/${ticketId}/attachments`, { method: 'POST', body: form, signal: patience(OBJECTSTORE_TIMEOUT_MS) })
  }

  for (const fault of ['cut', 'blackhole'] as const) {
    it(`answers uploads and downloads 503 while the store is ${fault === 'cut' ? 'refusing connections' : 'not answering'}; ticket work goes on`, async () => {
      const ticket = (await agent.post('/api/tickets', { title: `Store ${fault}`, body: 'with a file' })).body
      const stored = await upload(ticket.id, 'kept safe')
      expect(stored.status).toBe(201)
      const attachment = await stored.json()

      proxy[fault]()
      const refused = await upload(ticket.id, 'not now')
      expect(refused.status).toBe(503)
      expect((await refused.json()).message).toMatch(/file store is not answering/i)
      const download = await agent.fetch(`/api/tickets/${ticket.id}/attachments/${attachment.id}`, { signal: patience(OBJECTSTORE_TIMEOUT_MS) })
      expect(download.status).toBe(503)
      expect((await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Replying without files works' })).status).toBe(201)
      expect((await agent.patch(`/api/tickets/${ticket.id}`, { status: 'pending' })).status).toBe(200)
      // The failed upload left nothing behind: the list shows the one stored file.
      expect((await agent.get(`/api/tickets/${ticket.id}/attachments`)).body.data.map((a: { id: string }) => a.id)).toEqual([attachment.id])
      const ready = await fetch(`${app.url}/readyz`, { signal: patience(OBJECTSTORE_TIMEOUT_MS) })
      expect(ready.status).toBe(503)
      expect((await ready.json()).checks.storage).toBe('error')

      proxy.restore()
      expect((await upload(ticket.id, 'now it works')).status).toBe(201)
      const again = await agent.fetch(`/api/tickets/${ticket.id}/attachments/${attachment.id}`)
      expect(again.status).toBe(302)
      expect(await (await fetch(again.headers.get('location')!)).text()).toBe('kept safe')
    })
  }
})
