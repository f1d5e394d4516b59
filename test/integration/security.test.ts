import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { ADMIN_EMAIL, ADMIN_PASSWORD, freePort, startApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'

/**
 * What a red-team review found (issue 10), each reproduced through HTTP against the built server
 * in production mode (AUTH_MODE=local, two database roles). OIDC edges: security-oidc.test.ts.
 */
let app: RunningApp
let admin: Client
beforeAll(async () => {
  const port = await freePort()
  app = await startApp({
    PORT: String(port),
    NODE_ENV: 'production',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    MAX_BODY_SIZE_BYTES: String(64 * 1024),
  })
  admin = await signedInAdmin(app.url)
})
afterAll(async () => {
  await app?.stop()
})

/** A request whose body is sent in chunks without Content-Length, as a streaming client does. */
function chunked(path: string, chunks: number, chunkSize: number, headers: Record<string, string> = {}): Promise<{ status: number, sent: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, app.url)
    let sent = 0
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'origin': url.origin, ...headers } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, sent }))
    })
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve({ status: 413, sent }) : reject(error)))
    const chunk = Buffer.alloc(chunkSize, 0x20)
    const write = () => {
      while (sent < chunks) {
        sent++
        if (!req.write(chunk)) return void req.once('drain', write)
      }
      req.end()
    }
    req.write('{"email":"a@b.c","password":"')
    write()
  })
}

describe('return-to addresses (1)', () => {
  const odd = ['/\t/evil.example/', '/\n/evil.example', '/\\evil.example', '//evil.example', 'https://evil.example/', 'javascript:alert(1)', '/%E0%A4%A', '/%', '%00', '/\u0000x']

  it('sends a signed-in visitor of /login only to a path of this origin, and never answers 500', async () => {
    for (const value of odd) {
      const res = await admin.get(`/login?redirect=${encodeURIComponent(value)}`)
      expect(res.status, value).toBeLessThan(500)
      const location = res.headers.get('location')
      if (location) expect(new URL(location, app.url).origin, value).toBe(app.url)
    }
    const good = await admin.get(`/login?redirect=${encodeURIComponent('/tickets?status=open')}`)
    expect(new URL(good.headers.get('location')!, app.url).href).toBe(`${app.url}/tickets?status=open`)
  })
})

describe('sign-out that signs out (4)', () => {
  it('refuses a copy of the session cookie once its owner signed out', async () => {
    const agent = await userClient(admin, 'agent')
    const copy = new Client(app.url)
    copy.cookie = agent.cookie
    expect((await copy.get('/api/me')).status).toBe(200)
    expect((await agent.post('/api/auth/logout')).status).toBe(204)
    expect((await copy.get('/api/me')).status).toBe(401)
    // Other sessions of the same user are not affected by one sign-out.
    const again = await new Client(app.url).signIn(agent.user.email, 'a-long-test-password')
    expect((await again.get('/api/me')).status).toBe(200)
  })

  it('ends every session when an admin revokes them, including copies', async () => {
    const agent = await userClient(admin, 'agent')
    const copy = new Client(app.url)
    copy.cookie = agent.cookie
    expect((await admin.delete(`/api/admin/users/${agent.user.id}/sessions`)).status).toBe(204)
    expect((await copy.get('/api/me')).status).toBe(401)
  })
})

describe('body limits (2)', () => {
  it('answers 413 to a chunked body over the limit on the unauthenticated sign-in route', async () => {
    // 64 KiB limit; the client offers 8 MiB in 64 KiB chunks.
    const res = await chunked('/api/auth/login', 128, 64 * 1024)
    expect(res.status).toBe(413)
    expect(res.sent).toBeLessThan(128)
    // The server is fine afterwards, and a normal sign-in still works.
    expect((await new Client(app.url).post('/api/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status).toBe(200)
  })

  it('answers 413 to a chunked JSON body over the limit on an authenticated route', async () => {
    const res = await chunked('/api/tickets', 128, 64 * 1024, { cookie: admin.cookie })
    expect(res.status).toBe(413)
  })

  it('still reads bodies under the limit sent in chunks', async () => {
    const body = JSON.stringify({ title: 'Chunked', body: 'x'.repeat(10_000) })
    const res = await new Promise<number>((resolve, reject) => {
      const url = new URL('/api/tickets', app.url)
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'origin': url.origin, 'cookie': admin.cookie } }, (r) => {
        r.resume()
        r.on('end', () => resolve(r.statusCode!))
      }).on('error', reject)
      for (let i = 0; i < body.length; i += 1000) req.write(body.slice(i, i + 1000))
      req.end()
    })
    expect(res).toBe(201)
  })
})

describe('secrets in logs (3)', () => {
  it('never writes share tokens or upload grants to the log, whichever way they are used', async () => {
    const ticket = (await admin.post('/api/tickets', { title: 'Shared', body: 'Shared ticket' })).body
    const link = (await admin.post(`/api/tickets/${ticket.id}/share`, { expiresInDays: 1 })).body
    const token = new URL(link.url).pathname.split('/').pop()!
    const anonymous = new Client(app.url)
    expect((await anonymous.get(`/s/${token}`)).status).toBe(200)
    expect((await anonymous.get(`/api/share/${token}`)).status).toBe(200)
    expect((await anonymous.get(`/api/share/${token}-nope`)).status).toBe(404)
    const presign = (await admin.post(`/api/tickets/${ticket.id}/attachments/presign`, { filename: 'a.txt', contentType: 'text/plain', size: 3 })).body
    const grant = new URL(presign.upload.url, app.url).pathname.split('/').pop()!
    expect((await admin.fetch(presign.upload.url, { method: 'PUT', headers: presign.upload.headers, body: 'abc' })).status).toBe(200)
    await new Promise(r => setTimeout(r, 200))
    const log = app.output()
    expect(log).toContain('"path":"/api/share/[redacted]"')
    expect(log).toContain('"path":"/s/[redacted]"')
    expect(log).not.toContain(token)
    expect(log).not.toContain(grant.split('.')[0]!)
  })

  it('refuses text with NUL characters with 400 naming the field, instead of failing in the database', async () => {
    const res = await admin.post('/api/tickets', { title: 'Broken\u0000title', body: 'fine' })
    expect(res.status).toBe(400)
    expect(res.body.data.issues).toEqual([{ field: 'title', problem: 'must not contain NUL characters' }])
    expect((await admin.get(`/api/tickets?q=${encodeURIComponent('a\u0000b')}`)).status).toBe(400)
  })
})
