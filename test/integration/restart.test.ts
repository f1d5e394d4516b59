import { readFile } from 'node:fs/promises'
import { once } from 'node:events'
import { Agent, request } from 'node:https'
import { connect } from 'node:net'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestDatabase, freePort, startApp } from '../fixtures/app'
import { signedInAdmin, userClient } from '../fixtures/client'
import { startFaultProxy } from '../fixtures/fault-proxy'
import { startGateway } from '../fixtures/nginx'

/** Restarts lose nothing: replicas starting together, SIGTERM with requests in flight, a rolling restart behind nginx. */
const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})

describe('starting', () => {
  it('brings up two replicas started together on an empty database, migrating it once', async () => {
    const database = await createTestDatabase()
    cleanups.push(database.drop)
    const env = { DATABASE_URL: database.url, DATABASE_MIGRATION_URL: database.migrationUrl }
    const replicas = await Promise.all([startApp(env), startApp(env)])
    cleanups.push(...replicas.map(r => r.stop))
    for (const replica of replicas) {
      expect((await fetch(`${replica.url}/readyz`)).status).toBe(200)
      expect((await (await signedInAdmin(replica.url)).get('/api/tickets')).status).toBe(200)
    }
    const journal = JSON.parse(await readFile('server/db/migrations/meta/_journal.json', 'utf8')) as { entries: unknown[] }
    const owner = postgres(database.migrationUrl, { max: 1, onnotice: () => {} })
    try {
      const [{ applied }] = await owner<{ applied: number }[]>`select count(*)::int as applied from drizzle.__drizzle_migrations`
      expect(applied).toBe(journal.entries.length)
      const [{ admins }] = await owner<{ admins: number }[]>`select count(*)::int as admins from users where email = ${ADMIN_EMAIL}`
      expect(admins).toBe(1)
    }
    finally {
      await owner.end()
    }
  })
})

describe('SIGTERM', () => {
  it('fails readiness first, lets requests in flight finish, then closes its database connections and exits', async () => {
    const database = await createTestDatabase()
    cleanups.push(database.drop)
    // Every database round trip slowed down, so a request is still running when the signal comes.
    const proxy = await startFaultProxy({ port: Number(new URL(database.url).port || 5432) })
    cleanups.push(proxy.stop)
    const viaProxy = new URL(database.url)
    viaProxy.host = proxy.address
    const app = await startApp({ DATABASE_URL: viaProxy.toString(), DATABASE_MIGRATION_URL: database.migrationUrl, SHUTDOWN_DRAIN_MS: '1500', SHUTDOWN_GRACE_MS: '15000' })
    cleanups.push(app.stop)
    const agent = await userClient(await signedInAdmin(app.url), 'agent')
    proxy.delay(40)

    const inFlight = agent.post('/api/tickets', { title: 'Sent just before the restart', body: 'must not be lost' })
    await new Promise(r => setTimeout(r, 100))
    const exited = app.kill()
    await new Promise(r => setTimeout(r, 100))
    const ready = await fetch(`${app.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ status: 'shutting down' })
    // Still answered while draining, on a connection that is then closed.
    const during = await fetch(`${app.url}/healthz`)
    expect(during.status).toBe(200)
    expect(during.headers.get('connection')).toBe('close')

    const created = await inFlight
    expect(created.status).toBe(201)
    await exited
    await expect(fetch(`${app.url}/healthz`)).rejects.toThrow()

    const owner = postgres(database.migrationUrl, { max: 1, onnotice: () => {} })
    try {
      expect((await owner`select 1 from tickets where title = 'Sent just before the restart'`).length).toBe(1)
      const role = new URL(database.url).username
      await expect.poll(async () => (await owner`select 1 from pg_stat_activity where usename = ${role}`).length).toBe(0)
    }
    finally {
      await owner.end()
    }
  })
})

describe('SIGTERM, a connection accepted just before the listener closed', () => {
  it('still has the request that then arrives on it answered, so a proxy\'s POST on it is not lost', async () => {
    const app = await startApp({ SHUTDOWN_DRAIN_MS: '1000', SHUTDOWN_GRACE_MS: '10000' })
    cleanups.push(app.stop)
    const admin = await signedInAdmin(app.url)
    const port = Number(new URL(app.url).port)
    const exited = app.kill()
    await new Promise(r => setTimeout(r, 300))
    // Connected while the app still listens; the request goes out once the listener has closed
    // (with a proxy in front, the moment between its connecting and its request arriving).
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    let answer = ''
    socket.on('data', (d: Buffer) => (answer += d.toString()))
    const ended = once(socket, 'close')
    const listening = () => new Promise<boolean>((res) => {
      const probe = connect(port, '127.0.0.1')
      probe.once('connect', () => {
        probe.destroy()
        res(true)
      })
      probe.once('error', () => res(false))
    })
    await expect.poll(listening, { timeout: 10_000, interval: 20 }).toBe(false)
    const body = JSON.stringify({ title: 'Sent as the listener closed', body: 'must not be lost' })
    socket.write(`POST /api/tickets HTTP/1.1\r\nHost: ${new URL(app.url).host}\r\nOrigin: ${app.url}\r\nCookie: ${admin.cookie}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
    await ended
    expect(answer).toMatch(/^HTTP\/1\.1 201 /)
    expect(answer).toMatch(/^connection: close\r$/im)
    await exited
    const owner = postgres(app.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
    try {
      expect((await owner`select 1 from tickets where title = 'Sent as the listener closed'`).length).toBe(1)
    }
    finally {
      await owner.end()
    }
  })
})

describe('a rolling restart behind nginx', () => {
  it('shows no client an error while two replicas restart one after the other under load', { timeout: 180_000 }, async () => {
    const database = await createTestDatabase()
    cleanups.push(database.drop)
    const ports = [await freePort(), await freePort()]
    const gateway = await startGateway(ports.map(p => `127.0.0.1:${p}`))
    cleanups.push(gateway.stop)
    const env = (port: number) => ({
      PORT: String(port), DATABASE_URL: database.url, DATABASE_MIGRATION_URL: database.migrationUrl,
      PUBLIC_URL: gateway.httpsUrl, TRUSTED_PROXIES: '127.0.0.1', SHUTDOWN_DRAIN_MS: '5000', SHUTDOWN_GRACE_MS: '15000',
    })
    const replicas: RunningApp[] = [await startApp(env(ports[0]!)), await startApp(env(ports[1]!))]
    cleanups.push(() => Promise.all(replicas.map(r => r.kill())))

    const agent = new Agent({ ca: gateway.certificate, keepAlive: true })
    cleanups.push(async () => agent.destroy())
    const call = (method: string, path: string, cookie = '', body?: unknown) => new Promise<{ status: number, body: string, cookie: string }>((resolve, reject) => {
      const req = request(`${gateway.httpsUrl}${path}`, {
        method, agent, headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json', 'origin': gateway.httpsUrl }) },
      }, (res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode!, body: text, cookie: (res.headers['set-cookie'] ?? []).map(c => c.split(';')[0]).join('; ') }))
      })
      req.on('error', reject)
      req.end(body === undefined ? undefined : JSON.stringify(body))
    })

    const cookie = (await call('POST', '/api/auth/login', '', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).cookie
    const ticket = JSON.parse((await call('POST', '/api/tickets', cookie, { title: 'Rolling restart', body: 'replies keep coming' })).body)

    // When each replica went away and came back, to read a failure against.
    const started = Date.now()
    const events: string[] = []
    const seconds = () => `${((Date.now() - started) / 1000).toFixed(2)} s`
    const at = (what: string) => events.push(`${seconds()}: ${what}`)

    // Two people at work: reading the queue and the ticket, replying.
    let running = true
    const answered: number[] = []
    const failures: string[] = []
    let posted = 0
    const person = async (n: number) => {
      for (let i = 0; running; i++) {
        const [method, path, body] = i % 3 === 2
          ? ['POST', `/api/tickets/${ticket.id}/comments`, { body: `reply ${n}.${i}` }] as const
          : ['GET', i % 3 === 0 ? '/api/tickets' : `/api/tickets/${ticket.id}`, undefined] as const
        try {
          const res = await call(method, path, cookie, body)
          if (res.status >= 400) failures.push(`${seconds()} ${method} ${path}: ${res.status} ${res.body.slice(0, 200)}`)
          else {
            answered.push(res.status)
            if (method === 'POST') posted++
          }
        }
        catch (error) {
          failures.push(`${seconds()} ${method} ${path}: ${(error as Error).message}`)
        }
        await new Promise(r => setTimeout(r, 120))
      }
    }
    const people = [person(1), person(2)]

    for (const index of [0, 1]) {
      await new Promise(r => setTimeout(r, 1500))
      at(`replica ${index} told to stop`)
      await replicas[index]!.kill()
      at(`replica ${index} stopped`)
      replicas[index] = await startApp(env(ports[index]!))
      at(`replica ${index} ready again`)
    }
    await new Promise(r => setTimeout(r, 1500))
    running = false
    await Promise.all(people)

    // A failure comes with nginx's reason for it (a 502: refused, reset, or no live upstream).
    expect(failures, `${events.join('\n')}\nnginx's error log:\n${await gateway.errorLog()}`).toEqual([])
    expect(answered.length).toBeGreaterThan(50)
    // Every reply that was answered is stored once: none lost, none sent twice by a retry.
    const owner = postgres(database.migrationUrl, { max: 1, onnotice: () => {} })
    try {
      const [{ stored }] = await owner<{ stored: number }[]>`select count(*)::int as stored from comments where ticket_id = ${ticket.id}`
      expect(stored).toBe(posted)
    }
    finally {
      await owner.end()
    }
  })
})
