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
    // 64 KiB limit; the client offers 64 MiB in 64 KiB chunks. The server stops it well before
    // the end (loopback socket buffers hold a few MiB, so "before the end" needs a long body).
    const res = await chunked('/api/auth/login', 1024, 64 * 1024)
    expect(res.status).toBe(413)
    expect(res.sent).toBeLessThan(512)
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

describe('share links follow their creator\'s access (7)', () => {
  it('work only while the agent who made them could still see the ticket', async () => {
    const agent = await userClient(admin, 'agent', { orgs: ['sharing-org'] })
    const requester = await userClient(admin, 'requester', { orgs: ['sharing-org'] })
    const ticket = (await requester.post('/api/tickets', { title: 'Org ticket', body: 'Seen by the org\'s agents', org: 'sharing-org' })).body
    const link = await agent.post(`/api/tickets/${ticket.id}/share`, { expiresInDays: 1 })
    expect(link.status).toBe(201)
    const token = new URL(link.body.url).pathname.split('/').pop()!
    const reader = new Client(app.url)
    const read = () => reader.get(`/api/share/${token}`).then(r => r.status)
    expect(await read()).toBe(200)

    // The agent leaves the organisation: the ticket is out of their sight, and so out of the link's.
    expect((await admin.patch(`/api/admin/users/${agent.user.id}`, { orgs: [] })).status).toBe(200)
    expect(await read()).toBe(404)
    expect((await reader.get(`/s/${token}`)).status).toBe(404)
    // Back in the organisation: the link works again.
    expect((await admin.patch(`/api/admin/users/${agent.user.id}`, { orgs: ['sharing-org'] })).status).toBe(200)
    expect(await read()).toBe(200)
    // Deactivated: the link stops.
    expect((await admin.patch(`/api/admin/users/${agent.user.id}`, { active: false })).status).toBe(200)
    expect(await read()).toBe(404)
  })
})

describe('local upload grants are single-use (8)', () => {
  it('refuse a second PUT, before and after completion, and never delete a stored file', async () => {
    const ticket = (await admin.post('/api/tickets', { title: 'Upload', body: 'with a file' })).body
    const presign = (await admin.post(`/api/tickets/${ticket.id}/attachments/presign`, { filename: 'a.txt', contentType: 'text/plain', size: 5 })).body
    const put = (body: string) => admin.fetch(presign.upload.url, { method: 'PUT', headers: presign.upload.headers, body }).then(r => r.status)
    expect(await put('first')).toBe(200)
    // Pending, file stored: neither a replacement nor a wrong size touches it.
    expect(await put('other')).toBe(403)
    expect(await put('way too long')).toBe(403)
    const id = presign.attachment.id
    expect((await admin.post(`/api/tickets/${ticket.id}/attachments/${id}/complete`)).status).toBe(200)
    expect(await put('again')).toBe(403)
    expect(await put('x')).toBe(403)
    const file = await admin.fetch(`/api/tickets/${ticket.id}/attachments/${id}`)
    expect(await file.text()).toBe('first')
  })

  it('keeps nothing of a PUT with the wrong size, and the grant stays usable for the right file', async () => {
    const ticket = (await admin.post('/api/tickets', { title: 'Upload 2', body: 'with a file' })).body
    const presign = (await admin.post(`/api/tickets/${ticket.id}/attachments/presign`, { filename: 'b.txt', contentType: 'text/plain', size: 4 })).body
    const put = (body: string) => admin.fetch(presign.upload.url, { method: 'PUT', headers: presign.upload.headers, body }).then(r => r.status)
    expect(await put('abc')).toBe(400)
    expect(await put('abcd')).toBe(200)
    expect((await admin.post(`/api/tickets/${ticket.id}/attachments/${presign.attachment.id}/complete`)).status).toBe(200)
  })
})

describe('out-of-range input (9)', () => {
  it('answers 400 to cursors and numbers beyond their column\'s range, never 500', async () => {
    const cursor = (value: number) => Buffer.from(JSON.stringify([value])).toString('base64url')
    const ticket = (await admin.post('/api/tickets', { title: 'Ranges', body: 'numbers' })).body
    for (const path of [
      `/api/tickets?cursor=${cursor(2 ** 31)}`,
      `/api/tickets?cursor=${cursor(-(2 ** 31) - 1)}`,
      `/api/tickets?cursor=${cursor(2 ** 53)}`,
      `/api/tickets/${ticket.id}/comments?cursor=${cursor(2 ** 60)}`,
      `/api/tickets/${ticket.id}/events?cursor=${cursor(1e300)}`,
      `/api/admin/audit?cursor=${cursor(-1e20)}`,
      '/api/tickets?limit=99999999999999999999',
    ]) {
      expect((await admin.get(path)).status, path).toBe(400)
    }
    expect((await admin.get('/api/tickets/99999999999')).status).toBe(404)
    expect((await admin.post(`/api/tickets/${ticket.id}/share`, { expiresInDays: 2 ** 40 })).status).toBe(400)
    expect((await admin.post(`/api/tickets/${ticket.id}/attachments/presign`, { filename: 'a.txt', contentType: 'text/plain', size: 2 ** 62 })).status).toBe(400)
  })
})

describe('the storage "test connection" (10)', () => {
  const settings = (endpoint: string) => ({ backend: 's3', endpoint, region: 'us-east-1', bucket: 'probe', accessKeyId: 'k', secretAccessKey: 's', forcePathStyle: true })
  const targets = [
    'http://127.0.0.1:5432', 'http://localhost:6379', 'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:22', 'http://10.0.0.1', 'http://192.168.1.1:8080', 'http://[::ffff:127.0.0.1]:5432', 'http://0.0.0.0:3000',
  ]

  it('refuses loopback, private and link-local endpoints with the same answer, in production by default', async () => {
    for (const endpoint of [...targets, `${app.url}`]) {
      const tried = await admin.post('/api/admin/settings/storage/test', settings(endpoint))
      expect(tried.status, endpoint).toBe(400)
      expect(tried.body.data.issues, endpoint).toEqual([{ field: 'endpoint', problem: 'must be a public address (private, loopback and link-local addresses are not allowed)' }])
      expect((await admin.request('PUT', '/api/admin/settings/storage', settings(endpoint))).status, endpoint).toBe(400)
    }
  })

  it('says nothing about a target it could not use, where private endpoints are allowed', async () => {
    const development = await startApp({ STORAGE_ALLOW_PRIVATE_ENDPOINTS: 'true' })
    try {
      const operator = await signedInAdmin(development.url)
      const answers = new Set<string>()
      for (const endpoint of ['http://127.0.0.1:1', development.url, 'http://127.0.0.1:5432', 'http://127.0.0.1:6379', 'http://no-such-store.invalid']) {
        const tried = await operator.post('/api/admin/settings/storage/test', settings(endpoint))
        expect(tried.status, endpoint).toBe(200)
        expect(tried.body.ok, endpoint).toBe(false)
        answers.add(tried.body.message)
      }
      expect([...answers]).toEqual(['The store could not be used with these settings: check the endpoint, region, bucket and credentials.'])
    }
    finally {
      await development.stop()
    }
  })
})

describe('small ones (12)', () => {
  it('marks authenticated API and page responses no-store', async () => {
    for (const path of ['/api/me', '/api/tickets', '/', '/admin']) {
      const res = await admin.get(path)
      expect(res.status, path).toBeLessThan(400)
      expect(res.headers.get('cache-control'), path).toBe('no-store')
    }
  })

  it('keeps /metrics closed in production without METRICS_TOKEN', async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(403)
  })

  it('refuses a fresh production installation without ADMIN_PASSWORD instead of logging a generated one', async () => {
    const port = await freePort()
    const failed = await startApp({ PORT: String(port), NODE_ENV: 'production', PUBLIC_URL: `http://127.0.0.1:${port}`, ADMIN_PASSWORD: '' }).then(() => null, (error: Error) => error.message)
    expect(failed).toContain('ADMIN_PASSWORD is required')
    expect(failed).not.toMatch(/with password/)
  })
})
