import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { ADMIN_EMAIL, ADMIN_PASSWORD, startApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'

let app: RunningApp
beforeAll(async () => {
  app = await startApp()
})
afterAll(() => app?.stop())

describe('local sign-in', () => {
  it('signs in with email and password and sets a safe session cookie', async () => {
    const client = new Client(app.url)
    const res = await client.post('/api/auth/login', { email: ADMIN_EMAIL.toUpperCase(), password: ADMIN_PASSWORD })
    expect(res.status).toBe(200)
    expect(res.body.user).toMatchObject({ email: ADMIN_EMAIL, roles: ['admin'] })
    const cookie = res.headers.getSetCookie().find(c => c.startsWith('hd_auth='))!
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Lax/i)
    expect(cookie).not.toMatch(/Secure/i)
    const me = await client.get('/api/me')
    expect(me.status).toBe(200)
    expect(me.body).toEqual({ id: res.body.user.id, email: ADMIN_EMAIL, name: 'Administrator', roles: ['admin'], orgs: [] })
  })

  it('answers every wrong pair with the same 401', async () => {
    const wrongPassword = await new Client(app.url).post('/api/auth/login', { email: ADMIN_EMAIL, password: 'nope' })
    const unknownUser = await new Client(app.url).post('/api/auth/login', { email: 'ghost@example.test', password: 'nope' })
    expect(wrongPassword.status).toBe(401)
    expect(unknownUser.status).toBe(401)
    expect(unknownUser.body.message).toBe(wrongPassword.body.message)
    expect(wrongPassword.headers.getSetCookie()).toEqual([])
  })

  it('lists what is wrong with a malformed sign-in', async () => {
    const res = await new Client(app.url).post('/api/auth/login', { email: 'not-an-email' })
    expect(res.status).toBe(400)
    expect(res.body.data.issues.map((i: { field: string }) => i.field).sort()).toEqual(['email', 'password'])
  })

  it('is anonymous without a session, and with a forged one', async () => {
    expect((await new Client(app.url).get('/api/me')).status).toBe(401)
    const forged = new Client(app.url)
    forged.cookie = 'hd_auth=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'
    expect((await forged.get('/api/me')).status).toBe(401)
  })

  it('signs out', async () => {
    const client = await signedInAdmin(app.url)
    const res = await client.post('/api/auth/logout')
    expect(res.status).toBe(204)
    expect(res.headers.getSetCookie().join()).toMatch(/hd_auth=;/)
    expect((await client.get('/api/me')).status).toBe(401)
  })
})

describe('users', () => {
  it('lets an admin create users of every role, who can then sign in', async () => {
    const admin = await signedInAdmin(app.url)
    const agent = await userClient(admin, 'agent', { orgs: ['acme'] })
    const me = await agent.get('/api/me')
    expect(me.body).toMatchObject({ roles: ['agent'], orgs: ['acme'] })
    const list = await admin.get(`/api/admin/users?q=${encodeURIComponent(agent.user.email)}`)
    expect(list.body.data).toEqual([expect.objectContaining({ email: agent.user.email, roles: ['agent'], orgs: ['acme'], active: true })])
  })

  it('refuses a duplicate email and a weak password', async () => {
    const admin = await signedInAdmin(app.url)
    const dup = await admin.post('/api/admin/users', { email: ADMIN_EMAIL, name: 'Again', password: 'long-enough-password' })
    expect(dup.status).toBe(409)
    const weak = await admin.post('/api/admin/users', { email: 'weak@example.test', name: 'Weak', password: 'short' })
    expect(weak.status).toBe(400)
    expect(weak.body.data.issues).toEqual([{ field: 'password', problem: 'must be at least 12 characters' }])
  })

  it('keeps user administration to admins', async () => {
    const admin = await signedInAdmin(app.url)
    const requester = await userClient(admin, 'requester')
    const agent = await userClient(admin, 'agent')
    const manager = await userClient(admin, 'manager')
    const newUser = { email: 'x@example.test', name: 'X', password: 'long-enough-password' }
    expect((await requester.post('/api/admin/users', newUser)).status).toBe(403)
    expect((await agent.post('/api/admin/users', newUser)).status).toBe(403)
    expect((await manager.post('/api/admin/users', newUser)).status).toBe(403)
    expect((await requester.get('/api/admin/users')).status).toBe(403)
    expect((await manager.get('/api/admin/users')).status).toBe(200)
    expect((await new Client(app.url).get('/api/admin/users')).status).toBe(401)
  })
})

describe('revoking sessions', () => {
  it('lets an admin sign a user out everywhere; signing in again works', async () => {
    const admin = await signedInAdmin(app.url)
    const agent = await userClient(admin, 'agent')
    const otherBrowser = await new Client(app.url).signIn(agent.user.email, 'a-long-test-password')
    expect((await agent.delete(`/api/admin/users/${agent.user.id}/sessions`)).status).toBe(403)
    const res = await admin.delete(`/api/admin/users/${agent.user.id}/sessions`)
    expect(res.status).toBe(204)
    expect((await agent.get('/api/me')).status).toBe(401)
    expect((await otherBrowser.get('/api/me')).status).toBe(401)
    expect((await admin.get('/api/me')).status).toBe(200)
    await agent.signIn(agent.user.email, 'a-long-test-password')
    expect((await agent.get('/api/me')).status).toBe(200)
    expect((await admin.delete('/api/admin/users/not-a-uuid/sessions')).status).toBe(400)
    expect((await admin.delete('/api/admin/users/00000000-0000-4000-8000-000000000000/sessions')).status).toBe(404)
  })

  it('has no single sign-on routes in local mode', async () => {
    expect((await new Client(app.url).get('/auth/oidc/login')).status).toBe(404)
    expect((await new Client(app.url).get('/api/_auth/session')).status).toBe(404)
    expect((await new Client(app.url).get('/auth/signed-in')).status).toBe(404)
  })
})

describe('probes and request ids', () => {
  it('answers health and readiness', async () => {
    expect(await (await fetch(`${app.url}/healthz`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${app.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', checks: { db: 'ok', redis: 'skipped', storage: 'ok' } })
  })

  it('tags every response with a request id, keeping a sane one from the caller', async () => {
    const own = await fetch(`${app.url}/api/me`, { headers: { 'x-request-id': 'trace-123' } })
    expect(own.headers.get('x-request-id')).toBe('trace-123')
    const insane = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'bad id\twith spaces' } })
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const page = await fetch(`${app.url}/login`)
    expect(page.headers.get('x-request-id')).toBeTruthy()
  })
})

describe('start-up', () => {
  it('refuses to start in production without AUTH_LOCAL_SECRET, naming it', () => {
    const run = spawnSync(process.execPath, [resolve('.output/server/index.mjs')], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: '0', DATABASE_URL: 'postgres://127.0.0.1/x', PUBLIC_URL: 'https://help.example.com' },
      encoding: 'utf8',
      timeout: 20_000,
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(/AUTH_LOCAL_SECRET is required/)
  })

  it('runs with the embedded database and prints a first admin password that works', async () => {
    const embedded = await startApp({ DATABASE_URL: '', ADMIN_PASSWORD: '', AUTH_LOCAL_SECRET: '' })
    try {
      const password = /with password (\S+)/.exec(embedded.output())?.[1]
      expect(password).toBeTruthy()
      const admin = await new Client(embedded.url).signIn(ADMIN_EMAIL, password!)
      const ticket = await admin.post('/api/tickets', { title: 'Works without services', body: 'PGlite' })
      expect(ticket.status).toBe(201)
      expect((await admin.get('/api/tickets?q=services')).body.data).toHaveLength(1)
    }
    finally {
      await embedded.stop()
    }
  })
})
