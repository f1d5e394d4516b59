import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { ADMIN_EMAIL, ADMIN_PASSWORD, startApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'
import { metricValue } from '../fixtures/metrics'
import { parse } from 'yaml'

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const metricsToken = randomBytes(16).toString('hex')
const partner = 'https://partner.example.com'

// Two processes of one installation: shared database and Redis, as two replicas behind a proxy.
let first: RunningApp
let second: RunningApp
let admin: Client
beforeAll(async () => {
  const shared = {
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    RATE_LIMIT_LOGIN: '5/1m',
    RATE_LIMIT_TICKETS: '3/1m',
    ALLOWED_ORIGINS: partner,
    METRICS_TOKEN: metricsToken,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
  }
  // Both sit behind a proxy on loopback, so X-Forwarded-For names the client.
  first = await startApp({ ...shared, TRUSTED_PROXIES: '127.0.0.1' })
  second = await startApp({ ...shared, TRUSTED_PROXIES: '127.0.0.0/8', ...first.databaseEnv })
  // Signed in once: sign-ins from this address count against RATE_LIMIT_LOGIN too.
  admin = await signedInAdmin(first.url)
})
afterAll(async () => {
  await second?.kill()
  await first?.stop()
})

const metricsOf = (app: RunningApp, series: string) => metricValue(app.url, series, { authorization: `Bearer ${metricsToken}` })
const metrics = (series: string) => metricsOf(first, series)
/** Each process counts its own requests; Prometheus sums them. */
const summed = async (series: string) => (await metricsOf(first, series)) + (await metricsOf(second, series))

describe('rate limits, counted in Redis across processes', () => {
  it('limits sign-in attempts per client IP with 429 and Retry-After', async () => {
    const before = await summed('rate_limit_rejections_total{route="login"}')
    const attempt = (app: RunningApp, ip: string, password = 'wrong') =>
      new Client(app.url).request('POST', '/api/auth/login', { email: ADMIN_EMAIL, password }, { 'x-forwarded-for': ip })
    // Five attempts from one address, spread over both processes, use up its budget.
    const statuses = []
    for (const app of [first, second, first, second, first]) statuses.push((await attempt(app, '203.0.113.7')).status)
    expect(statuses).toEqual([401, 401, 401, 401, 401])
    const limited = await attempt(second, '203.0.113.7')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    // Even the right password waits now, on either process; another address is not affected.
    expect((await attempt(first, '203.0.113.7', ADMIN_PASSWORD)).status).toBe(429)
    expect((await attempt(first, '203.0.113.8', ADMIN_PASSWORD)).status).toBe(200)
    expect(await summed('rate_limit_rejections_total{route="login"}')).toBe(before + 2)
  })

  it('limits ticket creation per user, whichever process serves it', async () => {
    const onFirst = admin
    const onSecond = new Client(second.url)
    onSecond.cookie = onFirst.cookie
    const ticket = { title: 'Printer', body: 'Out of paper' }
    expect((await onFirst.post('/api/tickets', ticket)).status).toBe(201)
    expect((await onSecond.post('/api/tickets', ticket)).status).toBe(201)
    expect((await onFirst.post('/api/tickets', ticket)).status).toBe(201)
    const limited = await onSecond.post('/api/tickets', ticket)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(limited.body.message).toMatch(/Too many requests/)
    expect(await summed('rate_limit_rejections_total{route="tickets"}')).toBe(1)

    // Another user has their own budget.
    const someone = await userClient(onFirst, 'requester')
    expect((await someone.post('/api/tickets', ticket)).status).toBe(201)
  })
})

describe('cross-origin requests', () => {
  it('answers preflights for allowed origins only, with Vary: Origin', async () => {
    const preflight = (origin: string) => fetch(`${first.url}/api/tickets`, {
      method: 'OPTIONS',
      headers: { 'origin': origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    })
    const allowed = await preflight(partner)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(partner)
    expect(allowed.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-Requested-With')
    expect(allowed.headers.get('vary')).toMatch(/Origin/)
    const refused = await preflight('https://evil.example')
    expect(refused.status).toBe(403)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    // Only exact matches: a look-alike origin is someone else.
    expect((await preflight(`${partner}.evil.example`)).headers.get('access-control-allow-origin')).toBeNull()

    const read = await fetch(`${first.url}/api/me`, { headers: { origin: 'https://evil.example' } })
    expect(read.headers.get('access-control-allow-origin')).toBeNull()
    expect(read.headers.get('vary')).toMatch(/Origin/)
  })

  it('refuses state changes that a cross-site page could send with our cookies', async () => {
    const agent = await userClient(admin, 'agent')
    const ticket = { title: 'CSRF', body: 'should not exist' }
    const count = async () => (await agent.get('/api/tickets?q=CSRF')).body.data.length
    const before = await count()
    expect((await agent.request('POST', '/api/tickets', ticket, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await agent.request('POST', '/api/tickets', ticket, { 'origin': '', 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    // A cookie with neither Origin nor Sec-Fetch-Site is not a request a browser of ours sent.
    expect((await agent.request('POST', '/api/tickets', ticket, { origin: '' })).status).toBe(403)
    expect((await agent.request('PATCH', '/api/tickets/1000', { status: 'closed' }, { origin: 'null' })).status).toBe(403)
    // Signing in from another site is refused too (login CSRF).
    expect((await new Client(first.url).request('POST', '/api/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, { origin: 'https://evil.example' })).status).toBe(403)
    expect(await count()).toBe(before)
    // Same origin, an allowed partner, and Sec-Fetch-Site: same-origin pass.
    expect((await agent.request('POST', '/api/tickets', { ...ticket, title: 'Same origin' })).status).toBe(201)
    expect((await agent.request('POST', '/api/tickets', { ...ticket, title: 'Partner' }, { origin: partner })).status).toBe(201)
  })
})

describe('response headers', () => {
  it('protects pages with a per-response nonce CSP and every answer with the basic headers', async () => {
    const page = await fetch(`${first.url}/login`)
    const csp = page.headers.get('content-security-policy')!
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1]
    expect(nonce).toBeTruthy()
    expect(csp).toMatch(/script-src 'self' 'nonce-[^']+';/)
    expect(csp).not.toMatch(/unsafe-eval/)
    // Only style attributes (positioned menus of @nuxt/ui) may be inline; no inline script or <style> without the nonce.
    expect(csp.split('; ').filter(d => d.includes('unsafe-inline'))).toEqual(['style-src-attr \'unsafe-inline\''])
    expect(csp).toMatch(/frame-ancestors 'none'/)
    const html = await page.text()
    const scripts = html.match(/<script\b[^>]*>/g)!
    expect(scripts.length).toBeGreaterThan(0)
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`)
    const again = (await fetch(`${first.url}/login`)).headers.get('content-security-policy')
    expect(again).not.toBe(csp)

    for (const res of [page, await fetch(`${first.url}/healthz`)]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('referrer-policy')).toBe('same-origin')
      expect(res.headers.get('x-frame-options')).toBe('DENY')
    }
    expect((await fetch(`${first.url}/healthz`)).headers.get('content-security-policy')).toMatch(/default-src 'none'/)
  })

  it('adds HSTS only when served over HTTPS (as told by a trusted proxy)', async () => {
    expect((await fetch(`${first.url}/healthz`)).headers.get('strict-transport-security')).toBeNull()
    const https = await fetch(`${first.url}/healthz`, { headers: { 'x-forwarded-proto': 'https' } })
    expect(https.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/)
  })
})

describe('operations', () => {
  it('keeps /metrics behind METRICS_TOKEN and reports requests by route template', async () => {
    expect((await fetch(`${first.url}/metrics`)).status).toBe(401)
    expect((await fetch(`${first.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    await admin.get('/api/tickets/1000')
    await admin.get('/api/tickets/1001')
    const before = await metrics('http_requests_total{route="/api/tickets/:id",method="GET",status="200"}')
    await admin.get('/api/tickets/1000')
    expect(await metrics('http_requests_total{route="/api/tickets/:id",method="GET",status="200"}')).toBe(before + 1)
    const text = await (await fetch(`${first.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text()
    expect(text).not.toMatch(/route="\/api\/tickets\/100\d"/)
    for (const name of ['http_request_duration_seconds_bucket', 'auth_failures_total', 'db_pool_max_connections', 'db_client_in_flight', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      expect(text, name).toContain(name)
    }
  })

  it('passes promtool check metrics', async () => {
    const text = await (await fetch(`${first.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text()
    const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    expect(run.error, 'promtool missing: apt-get install -y prometheus').toBeUndefined()
    expect(run.stdout + run.stderr).toBe('')
    expect(run.status).toBe(0)
  })

  it('reports Redis in readiness, and 503 when it is unreachable', async () => {
    expect(await (await fetch(`${first.url}/readyz`)).json()).toEqual({ status: 'ready', checks: { db: 'ok', redis: 'ok', storage: 'ok' } })
    const broken = await startApp({ REDIS_URL: 'redis://127.0.0.1:1' }, { readyPath: '/healthz' })
    try {
      const res = await fetch(`${broken.url}/readyz`)
      expect(res.status).toBe(503)
      expect(await res.json()).toMatchObject({ status: 'unavailable', checks: { db: 'ok', redis: 'error' } })
    }
    finally {
      await broken.stop()
    }
  })

  it('logs one JSON line per request with request id, user, route, status and duration; no credentials', async () => {
    const me = (await admin.get('/api/me')).body
    await admin.request('GET', '/api/tickets/1000', undefined, { 'x-request-id': 'log-check-1' })
    await fetch(`${first.url}/api/me`, { headers: { 'authorization': 'Bearer secret-token-value', 'x-request-id': 'log-check-2' } })
    await new Promise(r => setTimeout(r, 200))
    const lines = first.output().split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l))
    expect(lines.find(l => l.reqId === 'log-check-1')).toMatchObject({ msg: 'request', userId: me.id, method: 'GET', route: '/api/tickets/:id', status: 200, ms: expect.any(Number) })
    expect(lines.find(l => l.reqId === 'log-check-2')).toMatchObject({ route: '/api/me', status: 401 })
    const output = first.output()
    expect(output).not.toContain('secret-token-value')
    expect(output).not.toContain(admin.cookie.split('=')[1])
    expect(output).not.toContain(ADMIN_PASSWORD)
  })
})

describe('alert rules', () => {
  it('pass promtool check rules and only name metrics that /metrics exports', async () => {
    const rules = 'deploy/prometheus/alerts.yml'
    const run = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' })
    expect(run.status, run.stdout + run.stderr).toBe(0)
    await fetch(`${first.url}/readyz`)
    const exported = await (await fetch(`${first.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text()
    const exprs: string[] = parse(await readFile(rules, 'utf8')).groups.flatMap((g: { rules: { expr: string }[] }) => g.rules.map(r => r.expr))
    const names = new Set(exprs.flatMap(e => e.match(/\b[a-z_]+(?=\{|\[| *==| *>)/g) ?? []).filter(n => n.includes('_') && !['histogram_quantile', 'clamp_min'].includes(n)))
    expect(names.size).toBeGreaterThan(4)
    for (const name of names) expect(exported, name).toMatch(new RegExp(`^# TYPE ${name.replace(/_bucket$/, '')} `, 'm'))
  })
})

describe('Grafana dashboard', () => {
  it('only queries metrics that /metrics exports', async () => {
    const dashboard = JSON.parse(await readFile('deploy/grafana/helpdesk-dashboard.json', 'utf8'))
    const exported = await (await fetch(`${first.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text()
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map(t => t.expr))
    const names = new Set(exprs.flatMap(e => e.match(/\b[a-z_]+(?=\{)/g) ?? []))
    expect(names.size).toBeGreaterThan(8)
    for (const name of names) expect(exported, name).toMatch(new RegExp(`^# TYPE ${name.replace(/_bucket$/, '')} `, 'm'))
  })
})

describe('sessions, remembered for a few seconds by each process', () => {
  it('end on both at sign-out, and a change by an admin or by the user reaches the next request on either', async () => {
    const user = await userClient(admin, 'requester', { name: 'Before the change' })
    const elsewhere = new Client(second.url)
    elsewhere.cookie = user.cookie
    // Both processes have just resolved the cookie, and remember what it named.
    expect((await user.get('/api/me')).body).toMatchObject({ name: 'Before the change', roles: ['requester'] })
    expect((await elsewhere.get('/api/me')).body).toMatchObject({ name: 'Before the change', roles: ['requester'] })

    expect((await admin.patch(`/api/admin/users/${user.user.id}`, { role: 'agent' })).status).toBe(200)
    expect((await elsewhere.get('/api/me')).body.roles).toEqual(['agent'])
    expect((await user.patch('/api/me', { name: 'After the change' })).status).toBe(200)
    expect((await elsewhere.get('/api/me')).body.name).toBe('After the change')
    expect((await elsewhere.get('/api/tickets')).status).toBe(200)

    expect((await user.post('/api/auth/logout', {})).status).toBeLessThan(300)
    expect((await elsewhere.get('/api/me')).status).toBe(401)
    expect((await elsewhere.get('/api/tickets')).status).toBe(401)
  })
})
