import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import type { Client } from '../fixtures/client'
import { signedInAdmin, userClient } from '../fixtures/client'

/** Working the queue: bulk changes, saved views, canned replies, the assignment picker. */
type Actor = Awaited<ReturnType<typeof userClient>>
let app: RunningApp
let admin: Client
let alice: Actor // requester at acme
let bob: Actor // requester at globex
let agent: Actor // agent of acme
let colleague: Actor // another agent of acme
let globexAgent: Actor
let manager: Actor // manager of acme

beforeAll(async () => {
  app = await startApp()
  admin = await signedInAdmin(app.url)
  alice = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Alice Requester' })
  bob = await userClient(admin, 'requester', { orgs: ['globex'], name: 'Bob Requester' })
  agent = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Agnes Agent' })
  colleague = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Carl Colleague' })
  globexAgent = await userClient(admin, 'agent', { orgs: ['globex'], name: 'Gina Globex' })
  manager = await userClient(admin, 'manager', { orgs: ['acme'], name: 'Mona Manager' })
})
afterAll(() => app?.stop())

const open = async (who: Client, title = 'Printer jam') => (await who.post('/api/tickets', { title, body: 'Paper everywhere' })).body

describe('bulk changes', () => {
  it('changes every visible ticket, reports hidden ones as not found, and records each change in its history', async () => {
    const one = await open(alice)
    const two = await open(alice)
    await agent.patch(`/api/tickets/${two.id}`, { tags: ['printer', 'floor-3'] })
    const hidden = await open(bob)
    const res = await agent.post('/api/tickets/bulk', {
      ids: [one.id, String(two.number), hidden.id, '00000000-0000-4000-8000-000000000000'],
      set: { status: 'pending', priority: 'high', assigneeId: agent.user.id, addTags: ['hardware'], removeTags: ['floor-3'] },
    })
    expect(res.status).toBe(200)
    expect(res.body.data.map((o: { id: string, outcome: string }) => [o.id, o.outcome])).toEqual([
      [one.id, 'updated'], [String(two.number), 'updated'], [hidden.id, 'not_found'], ['00000000-0000-4000-8000-000000000000', 'not_found'],
    ])
    expect(res.body.data[1].ticket).toMatchObject({ status: 'pending', priority: 'high', assignee: { id: agent.user.id }, tags: ['printer', 'hardware'] })
    // Nothing happened to the ticket the agent cannot see, and nothing about it came back.
    expect(res.body.data[2]).toEqual({ id: hidden.id, outcome: 'not_found' })
    const untouched = (await bob.get(`/api/tickets/${hidden.id}`)).body
    expect(untouched).toMatchObject({ status: 'new', priority: 'normal', assignee: null, tags: [] })
    const history = (await agent.get(`/api/tickets/${one.id}/events`)).body.data.map((e: { type: string, actor: { id: string } | null }) => [e.type, e.actor?.id])
    expect(history).toEqual([['created', alice.user.id], ['priority', agent.user.id], ['tags', agent.user.id], ['status', agent.user.id], ['assignee', agent.user.id]])

    const again = await agent.post('/api/tickets/bulk', { ids: [one.id], set: { status: 'pending' } })
    expect(again.body.data[0].outcome).toBe('unchanged')
  })

  it('keeps each ticket’s rules: a requester closes their own, is refused the rest', async () => {
    const mine = await open(alice)
    const res = await alice.post('/api/tickets/bulk', { ids: [mine.id], set: { status: 'closed', priority: 'urgent' } })
    expect(res.body.data[0]).toMatchObject({ outcome: 'forbidden' })
    expect((await alice.post('/api/tickets/bulk', { ids: [mine.id], set: { status: 'closed' } })).body.data[0].outcome).toBe('updated')
  })

  it('names the field of bad input', async () => {
    const empty = await agent.post('/api/tickets/bulk', { ids: [], set: { status: 'open' } })
    expect(empty.status).toBe(400)
    expect(empty.body.data.issues).toEqual([{ field: 'ids', problem: 'choose at least one ticket' }])
    const nothing = await agent.post('/api/tickets/bulk', { ids: ['1000'], set: {} })
    expect(nothing.body.data.issues[0]).toEqual({ field: 'set', problem: 'nothing to change' })
    const status = await agent.post('/api/tickets/bulk', { ids: ['1000'], set: { status: 'gone' } })
    expect(status.body.data.issues[0].field).toBe('set.status')
  })
})

describe('the assignment picker', () => {
  it('lists the colleagues who can see the ticket for agents, everyone for managers', async () => {
    const ticket = await open(alice)
    const names = async (who: Client) => (await who.get(`/api/agents?ticket=${ticket.id}`)).body.data.map((p: { name: string }) => p.name)
    const forAgent = await names(agent)
    expect(forAgent).toEqual(expect.arrayContaining(['Agnes Agent', 'Carl Colleague', 'Mona Manager']))
    expect(forAgent).not.toContain('Gina Globex')
    expect(await names(manager)).toContain('Gina Globex')
    expect((await globexAgent.get(`/api/agents?ticket=${ticket.id}`)).status).toBe(404)
    // What the picker offers is what the server accepts.
    expect((await agent.patch(`/api/tickets/${ticket.id}`, { assigneeId: colleague.user.id })).body.assignee.name).toBe('Carl Colleague')
  })
})

describe('saved views', () => {
  it('keeps personal views private and lets managers share views with everyone', async () => {
    const mine = await agent.post('/api/views', { name: 'My urgent', filters: { priority: 'urgent,high', assignee: 'me', sort: 'priority' } })
    expect(mine.status).toBe(201)
    expect(mine.body).toMatchObject({ name: 'My urgent', shared: false, editable: true, filters: { priority: 'urgent,high', assignee: 'me', sort: 'priority' } })
    expect((await agent.post('/api/views', { name: 'For all', shared: true })).status).toBe(403)
    const shared = await manager.post('/api/views', { name: 'Unassigned', shared: true, filters: { assignee: 'none' } })
    expect(shared.status).toBe(201)

    const seen = async (who: Client) => (await who.get('/api/views')).body.data.map((v: { name: string, editable: boolean }) => `${v.name}${v.editable ? '' : ' (read-only)'}`)
    expect(await seen(agent)).toEqual(['My urgent', 'Unassigned (read-only)'])
    expect(await seen(colleague)).toEqual(['Unassigned (read-only)'])
    expect(await seen(alice)).toEqual(['Unassigned (read-only)'])

    // Someone else's personal view does not exist for them; a shared one is the managers' to change.
    expect((await colleague.patch(`/api/views/${mine.body.id}`, { name: 'Mine now' })).status).toBe(404)
    expect((await colleague.delete(`/api/views/${mine.body.id}`)).status).toBe(404)
    expect((await agent.patch(`/api/views/${shared.body.id}`, { name: 'Hijacked' })).status).toBe(403)
    expect((await agent.patch(`/api/views/${mine.body.id}`, { name: 'Urgent for me' })).body.name).toBe('Urgent for me')
    expect((await agent.delete(`/api/views/${mine.body.id}`)).status).toBe(204)
    expect(await seen(agent)).toEqual(['Unassigned (read-only)'])
    expect((await manager.delete(`/api/views/${shared.body.id}`)).status).toBe(204)
    expect((await agent.get('/api/views/not-an-id')).status).toBe(404)
  })

  it('names the field of bad filters', async () => {
    const bad = await agent.post('/api/views', { name: '', filters: { status: 'open,gone', colour: 'red' } })
    expect(bad.status).toBe(400)
    const fields = bad.body.data.issues.map((i: { field: string }) => i.field)
    expect(fields).toEqual(expect.arrayContaining(['name', 'filters.status', 'filters']))
  })
})

describe('macros', () => {
  it('are kept by managers, read by agents, and refuse unknown placeholders', async () => {
    const created = await manager.post('/api/macros', {
      name: 'Toner on its way',
      body: 'Hello {{requester.firstName}}, about #{{ticket.number}}: new toner is on its way. — {{agent.name}}',
      changes: { status: 'pending', addTags: ['toner'] },
    })
    expect(created.status).toBe(201)
    expect((await agent.get('/api/macros')).body.data.map((m: { name: string }) => m.name)).toEqual(['Toner on its way'])
    expect((await alice.get('/api/macros')).status).toBe(403)
    expect((await agent.post('/api/macros', { name: 'Mine', body: 'x' })).status).toBe(403)

    const typo = await manager.post('/api/macros', { name: 'Typo', body: 'Hi {{requestor.name}}' })
    expect(typo.status).toBe(400)
    expect(typo.body.data.issues[0].field).toBe('body')
    expect(typo.body.data.issues[0].problem).toContain('{{requestor.name}}')
    expect((await manager.post('/api/macros', { name: 'Toner on its way', body: 'again' })).status).toBe(409)

    const renamed = await admin.patch(`/api/macros/${created.body.id}`, { name: 'Toner shipped', changes: { status: 'resolved' } })
    expect(renamed.body).toMatchObject({ name: 'Toner shipped', changes: { status: 'resolved' } })
    expect((await manager.delete(`/api/macros/${created.body.id}`)).status).toBe(204)
    expect((await manager.delete(`/api/macros/${created.body.id}`)).status).toBe(404)
  })
})
