import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import type { Client } from '../fixtures/client'
import { signedInAdmin, userClient } from '../fixtures/client'

type Actor = Awaited<ReturnType<typeof userClient>>

let app: RunningApp
let admin: Client
let alice: Actor // requester at acme
let bob: Actor // requester at globex
let agent: Actor // agent for acme
let agent2: Actor // another agent for acme
let manager: Actor // manager for acme

beforeAll(async () => {
  app = await startApp()
  admin = await signedInAdmin(app.url)
  alice = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Alice Requester' })
  bob = await userClient(admin, 'requester', { orgs: ['globex'], name: 'Bob Requester' })
  agent = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Agnes Agent' })
  agent2 = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Arthur Agent' })
  manager = await userClient(admin, 'manager', { orgs: ['acme'], name: 'Mona Manager' })
})
afterAll(() => app?.stop())

async function openTicket(who: Client, fields: Record<string, unknown> = {}) {
  const res = await who.post('/api/tickets', { title: 'VPN drops every hour', body: 'Since Monday the VPN disconnects.', ...fields })
  expect(res.status).toBe(201)
  return res.body
}

describe('ticket life cycle', () => {
  it('a requester opens a ticket and finds it in their list', async () => {
    const ticket = await openTicket(alice, { priority: 'high' })
    expect(ticket).toMatchObject({
      title: 'VPN drops every hour',
      status: 'new',
      priority: 'high',
      tags: [],
      requester: { id: alice.user.id, name: 'Alice Requester' },
      assignee: null,
      org: { slug: 'acme', name: 'acme' },
    })
    expect(ticket.number).toBeGreaterThanOrEqual(1000)
    const list = await alice.get('/api/tickets')
    expect(list.body.data.map((t: { id: string }) => t.id)).toContain(ticket.id)
    expect((await alice.get(`/api/tickets/${ticket.number}`)).body.id).toBe(ticket.id)
    expect((await alice.get(`/api/tickets/${ticket.id}`)).body.number).toBe(ticket.number)
  })

  it('an agent works the ticket: reply, internal note, status, priority, assignee — all in the history', async () => {
    const ticket = await openTicket(alice)
    const queue = await agent.get('/api/tickets?status=new')
    expect(queue.body.data.map((t: { id: string }) => t.id)).toContain(ticket.id)

    const reply = await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Can you send the VPN log?' })
    expect(reply.status).toBe(201)
    expect(reply.body).toMatchObject({ body: 'Can you send the VPN log?', internal: false, author: { id: agent.user.id } })
    const note = await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'SECRET: customer is on the legacy gateway', internal: true })
    expect(note.status).toBe(201)

    const changed = await agent.patch(`/api/tickets/${ticket.id}`, { status: 'pending', priority: 'urgent', assigneeId: agent.user.id, tags: ['vpn', 'network'] })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ status: 'pending', priority: 'urgent', assignee: { id: agent.user.id, name: 'Agnes Agent' }, tags: ['vpn', 'network'] })

    const events = (await agent.get(`/api/tickets/${ticket.id}/events`)).body.data
    expect(events.map((e: { type: string, from: unknown, to: unknown }) => [e.type, e.from, e.to])).toEqual([
      ['created', null, null],
      ['status', 'new', 'open'],
      ['priority', 'normal', 'urgent'],
      ['tags', [], ['vpn', 'network']],
      ['status', 'open', 'pending'],
      ['assignee', null, { id: agent.user.id, name: 'Agnes Agent' }],
    ])

    // The requester answers; a pending ticket comes back to the agent.
    await alice.post(`/api/tickets/${ticket.id}/comments`, { body: 'Log attached below.' })
    expect((await alice.get(`/api/tickets/${ticket.id}`)).body.status).toBe('open')
    expect((await agent.get('/api/tickets?assignee=me')).body.data.map((t: { id: string }) => t.id)).toContain(ticket.id)
  })

  it('never shows internal notes to the requester', async () => {
    const ticket = await openTicket(alice)
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Public answer' })
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'INTERNAL-ONLY-7f3a', internal: true })
    const asRequester = await alice.get(`/api/tickets/${ticket.id}/comments`)
    expect(asRequester.body.data.map((c: { body: string }) => c.body)).toEqual(['Public answer'])
    expect(JSON.stringify(asRequester.body)).not.toContain('INTERNAL-ONLY-7f3a')
    for (const path of ['/api/tickets', `/api/tickets/${ticket.id}`, `/api/tickets/${ticket.id}/events`, '/api/tickets?q=INTERNAL-ONLY-7f3a']) {
      expect(JSON.stringify((await alice.get(path)).body)).not.toContain('INTERNAL-ONLY-7f3a')
    }
    const asAgent = await agent.get(`/api/tickets/${ticket.id}/comments`)
    expect(asAgent.body.data.map((c: { body: string, internal: boolean }) => [c.body, c.internal])).toEqual([['Public answer', false], ['INTERNAL-ONLY-7f3a', true]])
    const forbidden = await alice.post(`/api/tickets/${ticket.id}/comments`, { body: 'let me in', internal: true })
    expect(forbidden.status).toBe(403)
  })

  it('lets requesters only resolve, close or reopen their own tickets', async () => {
    const ticket = await openTicket(alice)
    expect((await alice.patch(`/api/tickets/${ticket.id}`, { priority: 'urgent' })).status).toBe(403)
    expect((await alice.patch(`/api/tickets/${ticket.id}`, { status: 'pending' })).status).toBe(403)
    const resolved = await alice.patch(`/api/tickets/${ticket.id}`, { status: 'resolved' })
    expect(resolved.body.status).toBe('resolved')
    expect((await alice.patch(`/api/tickets/${ticket.id}`, { status: 'open' })).body.status).toBe('open')
    expect((await alice.get(`/api/tickets/${ticket.id}`)).body.priority).toBe('normal')
  })

  it('lets agents take tickets or hand them to colleagues who can see them, and managers assign anyone', async () => {
    const ticket = await openTicket(alice)
    const globexAgent = await userClient(admin, 'agent', { orgs: ['globex'] })
    expect((await agent.patch(`/api/tickets/${ticket.id}`, { assigneeId: globexAgent.user.id })).status).toBe(403)
    expect((await agent.patch(`/api/tickets/${ticket.id}`, { assigneeId: agent.user.id })).status).toBe(200)
    expect((await agent2.patch(`/api/tickets/${ticket.id}`, { assigneeId: agent2.user.id })).status).toBe(403)
    const handedOver = await agent.patch(`/api/tickets/${ticket.id}`, { assigneeId: agent2.user.id })
    expect(handedOver.body.assignee).toEqual({ id: agent2.user.id, name: 'Arthur Agent' })
    const reassigned = await manager.patch(`/api/tickets/${ticket.id}`, { assigneeId: globexAgent.user.id })
    expect(reassigned.body.assignee).toEqual({ id: globexAgent.user.id, name: globexAgent.user.name })
    const toRequester = await manager.patch(`/api/tickets/${ticket.id}`, { assigneeId: bob.user.id })
    expect(toRequester.status).toBe(400)
    expect(toRequester.body.data.issues).toEqual([{ field: 'assigneeId', problem: 'is not an active agent' }])
  })
})

describe('who sees which ticket', () => {
  it('keeps other customers’ tickets out of reach: 404, never 403', async () => {
    const ticket = await openTicket(alice, { title: 'Acme payroll export broken' })
    for (const path of [`/api/tickets/${ticket.id}`, `/api/tickets/${ticket.number}`, `/api/tickets/${ticket.id}/comments`, `/api/tickets/${ticket.id}/events`]) {
      expect((await bob.get(path)).status).toBe(404)
    }
    expect((await bob.patch(`/api/tickets/${ticket.id}`, { status: 'closed' })).status).toBe(404)
    expect((await bob.post(`/api/tickets/${ticket.id}/comments`, { body: 'hi' })).status).toBe(404)
    expect((await bob.get('/api/tickets?q=payroll')).body.data).toEqual([])
    expect((await admin.get(`/api/tickets/${ticket.id}`)).status).toBe(200)
  })

  it('shows an organisation’s agents its tickets and hides other organisations’', async () => {
    const bobs = await openTicket(bob, { title: 'Globex printer jam' })
    expect((await agent.get(`/api/tickets/${bobs.id}`)).status).toBe(404)
    expect((await agent.get('/api/tickets?q=globex')).body.data).toEqual([])
  })

  it('answers 404 for ids that cannot exist', async () => {
    for (const id of ['abc', '00000000-0000-0000-0000-000000000000', '99999999', '1;drop table tickets']) {
      expect((await alice.get(`/api/tickets/${encodeURIComponent(id)}`)).status).toBe(404)
    }
  })

  it('refuses anonymous callers', async () => {
    const { Client } = await import('../fixtures/client')
    expect((await new Client(app.url).get('/api/tickets')).status).toBe(401)
    expect((await new Client(app.url).post('/api/tickets', { title: 'x', body: 'y' })).status).toBe(401)
  })
})

describe('lists, filters and search', () => {
  it('pages through every ticket once with keyset cursors', async () => {
    const requester = await userClient(admin, 'requester', { orgs: ['paging'] })
    const made = []
    for (let i = 0; i < 23; i++) made.push((await openTicket(requester, { title: `Paging ticket ${i}` })).id)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: { status: number, body: { data: { id: string }[], meta: { nextCursor: string | null, limit: number } } }
        = await requester.get(`/api/tickets?limit=5${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.status).toBe(200)
      expect(res.body.meta.limit).toBe(5)
      seen.push(...res.body.data.map(t => t.id))
      cursor = res.body.meta.nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(5)
    expect(seen).toEqual([...made].reverse())
  })

  it('filters by status, priority and assignee', async () => {
    const requester = await userClient(admin, 'requester', { orgs: ['acme'] })
    const low = await openTicket(requester, { title: 'Filter low', priority: 'low' })
    const urgent = await openTicket(requester, { title: 'Filter urgent', priority: 'urgent' })
    await agent.patch(`/api/tickets/${urgent.id}`, { status: 'pending', assigneeId: agent.user.id })
    const ids = async (query: string) => (await requester.get(`/api/tickets?${query}`)).body.data.map((t: { id: string }) => t.id)
    expect(await ids('priority=low')).toEqual([low.id])
    expect(await ids('priority=urgent,high')).toEqual([urgent.id])
    expect((await requester.get('/api/tickets?priority=urgent,low')).body.meta.total).toBe(2)
    expect(await ids('status=pending')).toEqual([urgent.id])
    expect(await ids('status=new,pending')).toEqual([urgent.id, low.id])
    expect(await ids('assignee=none')).toEqual([low.id])
    expect(await ids(`assignee=${agent.user.id}`)).toEqual([urgent.id])
  })

  it('finds tickets by words in the title or description, with stemming', async () => {
    const requester = await userClient(admin, 'requester', { orgs: ['search'] })
    const printer = await openTicket(requester, { title: 'Printers on floor 3 offline', body: 'Nothing prints.' })
    const laptop = await openTicket(requester, { title: 'Laptop battery', body: 'The battery swells; the printer next to it is fine.' })
    const ids = async (q: string) => (await requester.get(`/api/tickets?q=${encodeURIComponent(q)}`)).body.data.map((t: { id: string }) => t.id)
    // Relevance: a title hit before a ticket that only mentions the word (docs/search.md).
    expect(await ids('printer')).toEqual([printer.id, laptop.id])
    expect(await ids('battery')).toEqual([laptop.id])
    expect(await ids('"floor 3"')).toEqual([printer.id])
    expect(await ids('printer -battery')).toEqual([printer.id])
    expect(await ids('kangaroo')).toEqual([])
  })
})

describe('bad input', () => {
  it('lists every problem with a ticket and stores nothing', async () => {
    const requester = await userClient(admin, 'requester')
    const res = await requester.post('/api/tickets', { title: '   ', priority: 'whenever' })
    expect(res.status).toBe(400)
    expect(res.body.data.issues.map((i: { field: string }) => i.field).sort()).toEqual(['body', 'priority', 'title'])
    expect(res.body).not.toHaveProperty('stack')
    expect((await requester.get('/api/tickets')).body.data).toEqual([])
  })

  it('answers 400 for a malformed query, body or cursor', async () => {
    expect((await alice.get('/api/tickets?limit=101')).status).toBe(400)
    expect((await alice.get('/api/tickets?limit=0')).status).toBe(400)
    expect((await alice.get('/api/tickets?status=lost')).status).toBe(400)
    expect((await alice.get('/api/tickets?cursor=garbage')).status).toBe(400)
    expect((await alice.get('/api/tickets?assignee=someone')).status).toBe(400)
    expect((await alice.request('POST', '/api/tickets', '{"title":', { 'content-type': 'application/json' })).status).toBe(400)
    const ticket = await openTicket(alice)
    expect((await alice.patch(`/api/tickets/${ticket.id}`, {})).status).toBe(400)
    expect((await alice.post(`/api/tickets/${ticket.id}/comments`, { body: '' })).status).toBe(400)
  })

  it('refuses bodies above the size limit with 413', async () => {
    const res = await alice.post('/api/tickets', { title: 'Huge', body: 'x'.repeat(1024 * 1024 + 10) })
    expect(res.status).toBe(413)
  })
})
