import { request as httpRequest, createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import type { RunningGateway } from '../fixtures/nginx'
import { startGateway } from '../fixtures/nginx'
import type { TokenIssuer } from '../fixtures/token-issuer'
import { startTokenIssuer } from '../fixtures/token-issuer'

interface Seen { method: string, url: string, headers: IncomingHttpHeaders, bodyBytes: number }

let idp: TokenIssuer
let app: RunningApp
let recorder: Server
let gateway: RunningGateway
const seen: Seen[] = []

/** Between nginx and the app: writes down what reaches the upstream, then passes it on. */
function startRecorder(target: URL): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, bodyBytes: body.length })
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers)
        answer.pipe(res)
      })
      upstream.end(body)
    })
  })
  return new Promise(res => server.listen(0, '127.0.0.1', () => res(server)))
}

beforeAll(async () => {
  idp = await startTokenIssuer()
  app = await startApp({
    OIDC_ISSUER: idp.issuer,
    OIDC_JWKS_URL: idp.jwksUrl,
    OIDC_AUDIENCE: idp.audience,
    TRUSTED_PROXIES: '127.0.0.1',
    RATE_LIMIT_LOGIN: '100/1m',
  })
  recorder = await startRecorder(new URL(app.url))
  gateway = await startGateway(`127.0.0.1:${(recorder.address() as AddressInfo).port}`)
})
afterAll(async () => {
  await gateway?.stop()
  recorder?.close()
  await app?.stop()
  await idp?.stop()
})

interface Answer { status: number, headers: IncomingHttpHeaders, body: string }

/** Over TLS, trusting only the gateway's own certificate. */
function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${gateway.httpsUrl}${path}`, { method, headers, ca: gateway.certificate, agent: false }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const bearer = async (scope = 'tickets:read tickets:write') =>
  `Bearer ${await idp.mint({ sub: 'gw-user', email: 'gw@example.test', name: 'Gateway User', scope })}`

describe('nginx in front of the app', () => {
  it('refuses API calls without a valid token before they reach the app', async () => {
    seen.length = 0
    const anonymous = await call('GET', '/api/tickets')
    expect(anonymous.status).toBe(401)
    expect(JSON.parse(anonymous.body)).toMatchObject({ statusCode: 401 })
    const forged = await call('GET', '/api/tickets', { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' })
    expect(forged.status).toBe(401)
    // Only the validation subrequests reached the app, never the API call itself.
    expect(seen.map(s => s.url)).toEqual(['/api/auth/validate', '/api/auth/validate'])
  })

  it('passes a valid token through with the identity headers, and never the body to validation', async () => {
    seen.length = 0
    const authorization = await bearer()
    const me = await call('GET', '/api/me', { authorization, 'x-user-id': 'spoofed-admin' })
    expect(me.status).toBe(200)
    const { id } = JSON.parse(me.body)
    const upstream = seen.find(s => s.url === '/api/me')!
    expect(upstream.headers['x-user-id']).toBe(id)
    expect(upstream.headers['x-scopes']).toBe('tickets:read,tickets:write')
    expect(upstream.headers['x-user-roles']).toBe('requester')
    expect(upstream.headers['x-forwarded-proto']).toBe('https')
    // Public paths carry no identity, whatever the client claims.
    await call('GET', '/healthz', { 'x-user-id': 'spoofed-admin' })
    expect(seen.at(-1)!.headers['x-user-id']).toBeUndefined()

    seen.length = 0
    const body = JSON.stringify({ title: 'Through the gateway', body: 'x'.repeat(5000) })
    const created = await call('POST', '/api/tickets', { authorization, 'content-type': 'application/json' }, body)
    expect(created.status).toBe(201)
    const validation = seen.find(s => s.url === '/api/auth/validate')!
    expect(validation.bodyBytes).toBe(0)
    expect(validation.headers['content-length']).toBeUndefined()
    expect(seen.find(s => s.url === '/api/tickets')!.bodyBytes).toBe(Buffer.byteLength(body))
  })

  it('serves public paths without credentials and sends signed-out browsers to sign-in', async () => {
    expect((await call('GET', '/login')).status).toBe(200)
    expect((await call('GET', '/healthz')).status).toBe(200)
    expect((await call('GET', '/metrics')).status).toBe(404)
    const page = await call('GET', '/tickets/new')
    expect(page.status).toBe(302)
    expect(page.headers.location).toBe(`${gateway.httpsUrl}/login?redirect=/tickets/new`)
    // A session cookie counts like a token for pages (the same validation).
    const signIn = await call('POST', '/api/auth/login', { 'content-type': 'application/json', 'origin': gateway.httpsUrl }, JSON.stringify({ email: 'admin@example.test', password: 'correct-horse-battery-staple' }))
    expect(signIn.status).toBe(200)
    const cookie = String(signIn.headers['set-cookie']![0]).split(';')[0]!
    expect((await call('GET', '/tickets/new', { cookie })).status).toBe(200)
  })

  it('speaks TLS with HSTS, redirects plain HTTP, and tags requests with one id end to end', async () => {
    const res = await call('GET', '/healthz')
    expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000/)
    const id = res.headers['x-request-id'] as string
    expect(id).toMatch(/^[0-9a-f]{32}$/)
    expect(seen.at(-1)!.headers['x-request-id']).toBe(id)
    const plain = await fetch(`${gateway.httpUrl}/api/tickets`, { redirect: 'manual' })
    expect(plain.status).toBe(308)
    expect(plain.headers.get('location')).toBe('https://127.0.0.1/api/tickets')
  })

  it('limits sign-in attempts per client address at the gateway', async () => {
    seen.length = 0
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      const res = await call('POST', '/api/auth/login', { 'content-type': 'application/json', 'origin': gateway.httpsUrl }, JSON.stringify({ email: 'nobody@example.test', password: 'wrong' }))
      statuses.push(res.status)
    }
    expect(statuses).toContain(429)
    expect(statuses.filter(s => s === 401).length).toBeLessThan(12)
    // Refused attempts never reached the app.
    expect(seen.filter(s => s.url === '/api/auth/login').length).toBe(statuses.filter(s => s === 401).length)
  })
})
