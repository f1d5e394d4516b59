import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { ADMIN_EMAIL, startApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'

let app: RunningApp
let admin: Client
beforeAll(async () => {
  app = await startApp()
  admin = await signedInAdmin(app.url)
})
afterAll(() => app?.stop())

const auditOf = async (query: string) => (await admin.get(`/api/admin/audit?${query}`)).body.data as { action: string, actor: { id: string } | null, targetId: string | null, ip: string | null, details: Record<string, any> }[]

describe('users in the admin area', () => {
  it('an admin changes a user’s role and organisations; it takes effect at once and is audited', async () => {
    const user = await userClient(admin, 'requester', { orgs: ['acme'] })
    const changed = await admin.patch(`/api/admin/users/${user.user.id}`, { role: 'agent', orgs: ['acme', 'globex'] })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ roles: ['agent'], orgs: ['acme', 'globex'] })
    expect((await user.get('/api/me')).body).toMatchObject({ roles: ['agent'], orgs: ['acme', 'globex'] })
    const [entry] = await auditOf(`action=user_changed&target=${user.user.id}`)
    expect(entry!.details).toEqual({ roles: { from: ['requester'], to: ['agent'] }, orgs: { from: ['acme'], to: ['acme', 'globex'] } })
  })

  it('deactivating a user ends their sessions and refuses their sign-in', async () => {
    const user = await userClient(admin, 'agent')
    expect((await admin.patch(`/api/admin/users/${user.user.id}`, { active: false })).body.active).toBe(false)
    expect((await user.get('/api/me')).status).toBe(401)
    // The right password learns the account is switched off; a wrong one gets the answer everyone gets.
    const right = await new Client(app.url).post('/api/auth/login', { email: user.user.email, password: 'a-long-test-password' })
    expect(right.status).toBe(403)
    expect(right.body.message).toMatch(/deactivated/)
    const wrong = await new Client(app.url).post('/api/auth/login', { email: user.user.email, password: 'not-the-password' })
    const nobody = await new Client(app.url).post('/api/auth/login', { email: 'nobody@example.test', password: 'not-the-password' })
    expect([wrong.status, wrong.body.message]).toEqual([401, nobody.body.message])
    await admin.patch(`/api/admin/users/${user.user.id}`, { active: true })
    expect((await user.get('/api/me')).status).toBe(401)
    await user.signIn(user.user.email, 'a-long-test-password')
    expect((await user.get('/api/me')).status).toBe(200)
  })

  it('keeps admins from locking themselves out', async () => {
    const me = (await admin.get('/api/me')).body
    const res = await admin.patch(`/api/admin/users/${me.id}`, { role: 'agent' })
    expect(res.status).toBe(400)
    expect(res.body.message).toMatch(/own admin rights/)
    expect((await admin.get('/api/me')).body.roles).toEqual(['admin'])
  })

  it('lets managers read but not change, and requesters neither', async () => {
    const manager = await userClient(admin, 'manager', { orgs: ['acme'] })
    const requester = await userClient(admin, 'requester')
    for (const path of ['/api/admin/users', '/api/admin/orgs', '/api/admin/overview', '/api/admin/audit']) {
      expect((await manager.get(path)).status).toBe(200)
      expect((await requester.get(path)).status).toBe(403)
    }
    expect((await manager.patch(`/api/admin/users/${requester.user.id}`, { role: 'admin' })).status).toBe(403)
    expect((await admin.patch('/api/admin/users/not-a-uuid', { role: 'agent' })).status).toBe(400)
    expect((await admin.patch('/api/admin/users/00000000-0000-0000-0000-000000000000', { role: 'agent' })).status).toBe(404)
  })

  it('lists an organisation’s members', async () => {
    const member = await userClient(admin, 'requester', { orgs: ['initech'] })
    const list = await admin.get('/api/admin/users?org=initech')
    expect(list.body.data.map((u: { id: string }) => u.id)).toEqual([member.user.id])
  })
})

describe('audit log', () => {
  it('records sign-ins and failed sign-ins with the address they came from', async () => {
    await new Client(app.url).post('/api/auth/login', { email: ADMIN_EMAIL, password: 'wrong' })
    const [failed] = await auditOf('action=sign_in_failed')
    expect(failed).toMatchObject({ action: 'sign_in_failed', actor: null, details: { email: ADMIN_EMAIL, via: 'local' } })
    expect(failed!.ip).toMatch(/127\.0\.0\.1/)
    const signIns = await auditOf('action=sign_in')
    expect(signIns.length).toBeGreaterThan(0)
    expect(signIns.every(e => e.action === 'sign_in')).toBe(true)
  })

  it('pages through the log newest first', async () => {
    const first = await admin.get('/api/admin/audit?limit=2')
    expect(first.body.data).toHaveLength(2)
    const second = await admin.get(`/api/admin/audit?limit=2&cursor=${first.body.meta.nextCursor}`)
    expect(Number(second.body.data[0].id)).toBeLessThan(Number(first.body.data[1].id))
  })
})

describe('overview', () => {
  it('counts tickets by status and priority, per day, and the median first response — within what the caller sees', async () => {
    const requester = await userClient(admin, 'requester', { orgs: ['umbrella'] })
    const manager = await userClient(admin, 'manager', { orgs: ['umbrella'] })
    const before = (await manager.get('/api/admin/overview')).body
    const a = (await requester.post('/api/tickets', { title: 'Overview A', body: 'x', priority: 'urgent' })).body
    await requester.post('/api/tickets', { title: 'Overview B', body: 'x' })
    await manager.post(`/api/tickets/${a.id}/comments`, { body: 'On it' })
    const after = (await manager.get('/api/admin/overview')).body
    expect(after.byStatus.new - before.byStatus.new).toBe(1)
    expect(after.byStatus.open - before.byStatus.open).toBe(1)
    expect(after.openByPriority.urgent - before.openByPriority.urgent).toBe(1)
    expect(after.perDay).toHaveLength(30)
    expect(after.perDay.at(-1).day).toBe(new Date().toISOString().slice(0, 10))
    expect(after.perDay.at(-1).created - before.perDay.at(-1).created).toBe(2)
    expect(after.medianFirstResponseSeconds).toBeGreaterThanOrEqual(0)
    // Another organisation's manager does not count these tickets.
    const other = await userClient(admin, 'manager', { orgs: ['elsewhere'] })
    expect((await other.get('/api/admin/overview')).body.byStatus).toEqual({ new: 0, open: 0, pending: 0, resolved: 0, closed: 0 })
  })
})

describe('share links', () => {
  async function sharedTicket() {
    const requester = await userClient(admin, 'requester', { orgs: ['acme'] })
    const agent = await userClient(admin, 'agent', { orgs: ['acme'] })
    const ticket = (await requester.post('/api/tickets', { title: 'Shared printer issue', body: 'Toner low' })).body
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Public: ordering toner' })
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'SECRET-NOTE-91 vendor price', internal: true })
    return { requester, agent, ticket }
  }

  it('an agent shares a read-only view: public replies only, every use audited', async () => {
    const { agent, ticket } = await sharedTicket()
    const share = await agent.post(`/api/tickets/${ticket.id}/share`, { expiresInDays: 2 })
    expect(share.status).toBe(201)
    expect(share.body.url).toMatch(new RegExp(`^${app.url}/s/[\\w-]{40,}$`))
    expect(new Date(share.body.expiresAt).getTime() - Date.now()).toBeGreaterThan(47 * 3600_000)
    const token = share.body.url.split('/s/')[1]

    const data = await new Client(app.url).get(`/api/share/${token}`)
    expect(data.status).toBe(200)
    expect(data.body.ticket).toMatchObject({ title: 'Shared printer issue', body: 'Toner low', number: ticket.number })
    expect(data.body.comments.map((c: { body: string }) => c.body)).toEqual(['Public: ordering toner'])
    expect(data.headers.get('referrer-policy')).toBe('no-referrer')

    const page = await fetch(`${app.url}/s/${token}`)
    expect(page.status).toBe(200)
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await page.text()
    expect(html).toContain('Shared printer issue')
    expect(html).toContain('Public: ordering toner')
    expect(html).not.toContain('SECRET-NOTE-91')

    // Files on the ticket and on public replies download through the link; a note's files never do.
    const upload = async (name: string, text: string, commentId?: string) => {
      const form = new FormData()
      if (commentId) form.append('commentId', commentId)
      form.append('file', new Blob([text], { type: 'text/plain' }), name)
      const res = await fetch(`${app.url}/api/tickets/${ticket.id}/attachments`, { method: 'POST', body: form, headers: { cookie: agent.cookie, origin: app.url } })
      expect(res.status).toBe(201)
      return (await res.json()).id as string
    }
    const comments = (await agent.get(`/api/tickets/${ticket.id}/comments`)).body.data as { id: string, internal: boolean }[]
    const publicFile = await upload('toner-order.txt', 'order #55')
    const noteFile = await upload('vendor-prices.txt', 'SECRET-PRICE-LIST', comments.find(c => c.internal)!.id)
    const withFiles = await new Client(app.url).get(`/api/share/${token}`)
    expect(withFiles.body.attachments.map((a: { filename: string }) => a.filename)).toEqual(['toner-order.txt'])
    const download = await fetch(`${app.url}/api/share/${token}/attachments/${publicFile}`)
    expect(download.status).toBe(200)
    expect(await download.text()).toBe('order #55')
    expect(download.headers.get('content-disposition')).toContain('toner-order.txt')
    expect((await fetch(`${app.url}/api/share/${token}/attachments/${noteFile}`)).status).toBe(404)
    expect(await (await fetch(`${app.url}/s/${token}`)).text()).toContain('toner-order.txt')

    const uses = await auditOf(`action=share_link_used&target=${ticket.id}`)
    expect(uses.length).toBeGreaterThanOrEqual(3)
    expect((await auditOf(`action=share_link_created&target=${ticket.id}`))[0]!.actor!.id).toBe(agent.user.id)
  })

  it('is refused to requesters and to agents who cannot see the ticket', async () => {
    const { requester, ticket } = await sharedTicket()
    expect((await requester.post(`/api/tickets/${ticket.id}/share`, {})).status).toBe(403)
    const outsider = await userClient(admin, 'agent', { orgs: ['globex'] })
    expect((await outsider.post(`/api/tickets/${ticket.id}/share`, {})).status).toBe(404)
    expect((await requester.post(`/api/tickets/${ticket.id}/share`, { expiresInDays: 365 })).status).toBe(400)
  })

  it('stops working when revoked or expired: 404, like a link that never existed', async () => {
    const { agent, ticket } = await sharedTicket()
    const revoked = await agent.post(`/api/tickets/${ticket.id}/share`, {})
    const expiring = await agent.post(`/api/tickets/${ticket.id}/share`, {})
    const list = await agent.get(`/api/tickets/${ticket.id}/share`)
    expect(list.body.data.map((l: { id: string }) => l.id).sort()).toEqual([revoked.body.id, expiring.body.id].sort())

    expect((await agent.delete(`/api/tickets/${ticket.id}/share/${revoked.body.id}`)).status).toBe(204)
    expect((await agent.delete(`/api/tickets/${ticket.id}/share/${revoked.body.id}`)).status).toBe(404)
    const token = (url: string) => url.split('/s/')[1]
    expect((await new Client(app.url).get(`/api/share/${token(revoked.body.url)}`)).status).toBe(404)
    expect((await fetch(`${app.url}/api/share/${token(revoked.body.url)}/attachments/00000000-0000-0000-0000-000000000000`)).status).toBe(404)
    expect((await fetch(`${app.url}/s/${token(revoked.body.url)}`)).status).toBe(404)

    // Time passes: the operator's clock is simulated by moving the expiry into the past.
    const db = postgres(app.ownerDatabaseUrl!, { max: 1 })
    await db`update share_links set expires_at = now() - interval '1 second' where id = ${expiring.body.id}`
    await db.end()
    expect((await new Client(app.url).get(`/api/share/${token(expiring.body.url)}`)).status).toBe(404)
    expect((await new Client(app.url).get('/api/share/not-a-real-token-at-all-123456')).status).toBe(404)
    expect((await agent.get(`/api/tickets/${ticket.id}/share`)).body.data).toEqual([])
  })
})

describe('session revocation', () => {
  it('signs a user out everywhere; their next request is a 401 and a new sign-in works', async () => {
    const user = await userClient(admin, 'agent')
    const otherTab = new Client(app.url)
    otherTab.cookie = user.cookie
    expect((await admin.delete(`/api/admin/users/${user.user.id}/sessions`)).status).toBe(204)
    expect((await user.get('/api/me')).status).toBe(401)
    expect((await otherTab.get('/api/tickets')).status).toBe(401)
    await user.signIn(user.user.email, 'a-long-test-password')
    expect((await user.get('/api/me')).status).toBe(200)
    const [entry] = await auditOf(`action=sessions_revoked&target=${user.user.id}`)
    expect(entry!.actor!.id).toBe((await admin.get('/api/me')).body.id)
    expect((await user.delete(`/api/admin/users/${user.user.id}/sessions`)).status).toBe(403)
  })
})
