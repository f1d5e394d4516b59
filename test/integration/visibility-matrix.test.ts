import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import type { Client } from '../fixtures/client'
import { signedInAdmin, userClient } from '../fixtures/client'

/**
 * The authorisation matrix: every role × every ticket route × every kind of ticket, against the
 * design's "who sees which ticket" table (written out here by hand, not derived from the code).
 */
type Role = 'admin' | 'manager' | 'agent' | 'assigned-only agent' | 'requester' | 'org-scope requester' | 'requester without org'
type Kind = 'own' | 'same-org' | 'other-org' | 'assigned'

const sees: Record<Role, Record<Kind, boolean | null>> = {
  'admin': { 'own': true, 'same-org': true, 'other-org': true, 'assigned': true },
  'manager': { 'own': true, 'same-org': true, 'other-org': false, 'assigned': true },
  'agent': { 'own': true, 'same-org': true, 'other-org': false, 'assigned': true },
  'assigned-only agent': { 'own': true, 'same-org': false, 'other-org': false, 'assigned': true },
  // Requesters cannot be assigned tickets.
  'requester': { 'own': true, 'same-org': false, 'other-org': false, 'assigned': null },
  'org-scope requester': { 'own': true, 'same-org': true, 'other-org': false, 'assigned': null },
  'requester without org': { 'own': true, 'same-org': false, 'other-org': false, 'assigned': null },
}
const staffRoles = new Set<Role>(['admin', 'manager', 'agent', 'assigned-only agent'])

interface Actor { role: Role, client: Client & { user: { id: string } }, tickets: Partial<Record<Kind, { id: string, number: number, marker: string }>> }

let app: RunningApp
const actors: Actor[] = []
const internalMarkers: string[] = []

beforeAll(async () => {
  app = await startApp()
  const admin = await signedInAdmin(app.url)
  const acmeRequester = await userClient(admin, 'requester', { orgs: ['acme'] })
  const globexRequester = await userClient(admin, 'requester', { orgs: ['globex'] })
  const make: Record<Role, () => ReturnType<typeof userClient>> = {
    'admin': () => userClient(admin, 'admin'),
    'manager': () => userClient(admin, 'manager', { orgs: ['acme'] }),
    'agent': () => userClient(admin, 'agent', { orgs: ['acme'] }),
    'assigned-only agent': () => userClient(admin, 'agent', { orgs: ['acme'], flags: ['visibility-assigned'] }),
    'requester': () => userClient(admin, 'requester', { orgs: ['acme'] }),
    'org-scope requester': () => userClient(admin, 'requester', { orgs: ['acme'], flags: ['visibility-org'] }),
    'requester without org': () => userClient(admin, 'requester'),
  }
  const open = async (by: Client, title: string) => {
    const marker = `INTERNAL-${Math.random().toString(36).slice(2)}`
    const ticket = (await by.post('/api/tickets', { title, body: `Body of ${title}` })).body
    const note = await admin.post(`/api/tickets/${ticket.id}/comments`, { body: `${marker} staff only`, internal: true })
    expect(note.status).toBe(201)
    internalMarkers.push(marker)
    return { id: ticket.id as string, number: ticket.number as number, marker }
  }
  for (const role of Object.keys(sees) as Role[]) {
    const client = await make[role]()
    const actor: Actor = { role, client, tickets: {} }
    actor.tickets.own = await open(client, `Own ticket of ${role}`)
    actor.tickets['same-org'] = await open(acmeRequester, `Acme ticket for ${role}`)
    actor.tickets['other-org'] = await open(globexRequester, `Globex ticket for ${role}`)
    if (staffRoles.has(role)) {
      const assigned = await open(globexRequester, `Globex ticket assigned to ${role}`)
      expect((await admin.patch(`/api/tickets/${assigned.id}`, { assigneeId: client.user.id })).status).toBe(200)
      actor.tickets.assigned = assigned
    }
    actors.push(actor)
  }
})
afterAll(() => app?.stop())

const routes = [
  { name: 'GET ticket', call: (c: Client, id: string) => c.get(`/api/tickets/${id}`), ok: 200 },
  { name: 'GET ticket by number', call: (c: Client, _id: string, n: number) => c.get(`/api/tickets/${n}`), ok: 200 },
  { name: 'GET comments', call: (c: Client, id: string) => c.get(`/api/tickets/${id}/comments`), ok: 200 },
  { name: 'GET history', call: (c: Client, id: string) => c.get(`/api/tickets/${id}/events`), ok: 200 },
  { name: 'GET attachments', call: (c: Client, id: string) => c.get(`/api/tickets/${id}/attachments`), ok: 200 },
  { name: 'presign attachment', call: (c: Client, id: string) => c.post(`/api/tickets/${id}/attachments/presign`, { filename: 'matrix.txt', contentType: 'text/plain', size: 5 }), ok: 201 },
  { name: 'POST comment', call: (c: Client, id: string) => c.post(`/api/tickets/${id}/comments`, { body: 'matrix reply' }), ok: 201 },
]

describe('authorisation matrix', () => {
  const cases = (Object.keys(sees) as Role[]).flatMap(role =>
    (['own', 'same-org', 'other-org', 'assigned'] as Kind[]).filter(kind => sees[role][kind] !== null).map(kind => [role, kind] as const))

  it.each(cases)('%s × %s ticket', async (role, kind) => {
    const actor = actors.find(a => a.role === role)!
    const ticket = actor.tickets[kind]!
    const visible = sees[role][kind]!
    for (const route of routes) {
      const res = await route.call(actor.client, ticket.id, ticket.number)
      expect(`${route.name} → ${res.status}`).toBe(`${route.name} → ${visible ? route.ok : 404}`)
    }
    // Changing the ticket: staff may; requesters only the status of their own; invisible → 404.
    const patch = staffRoles.has(role) ? { priority: 'high' } : { status: 'resolved' }
    const changed = await actor.client.patch(`/api/tickets/${ticket.id}`, patch)
    const expected = !visible ? 404 : staffRoles.has(role) || kind === 'own' ? 200 : 403
    expect(`PATCH → ${changed.status}`).toBe(`PATCH → ${expected}`)

    // Sharing a ticket: agents and above on tickets they see; requesters are refused where they may look.
    const share = await actor.client.post(`/api/tickets/${ticket.id}/share`, {})
    expect(`share → ${share.status}`).toBe(`share → ${!visible ? 404 : staffRoles.has(role) ? 201 : 403}`)

    const listed = (await actor.client.get('/api/tickets?status=&limit=100')).body.data.map((t: { id: string }) => t.id)
    expect(listed.includes(ticket.id)).toBe(visible)
    const found = (await actor.client.get(`/api/tickets?q=${encodeURIComponent(`"${kind === 'own' ? 'Own ticket' : 'ticket'} of ${role}"`)}`)).body.data
    if (kind === 'own') expect(found.map((t: { id: string }) => t.id)).toContain(ticket.id)
  })
})

describe('internal notes never reach requesters', () => {
  it('appear in no response to any requester, on any route', async () => {
    for (const actor of actors.filter(a => !staffRoles.has(a.role))) {
      const bodies: string[] = []
      const list = await actor.client.get('/api/tickets?limit=100')
      bodies.push(JSON.stringify(list.body))
      for (const marker of internalMarkers) bodies.push(JSON.stringify((await actor.client.get(`/api/tickets?q=${marker}`)).body))
      for (const ticket of Object.values(actor.tickets)) {
        for (const path of [`/api/tickets/${ticket.id}`, `/api/tickets/${ticket.id}/comments`, `/api/tickets/${ticket.id}/events`]) {
          bodies.push(JSON.stringify((await actor.client.get(path)).body))
        }
      }
      const everything = bodies.join('\n')
      for (const marker of internalMarkers) expect(everything).not.toContain(marker)
      // …while the visible tickets' public replies do reach them.
      expect(everything).toContain('matrix reply')
    }
  })

  it('are shown to staff on the tickets they see', async () => {
    const agent = actors.find(a => a.role === 'agent')!
    const comments = await agent.client.get(`/api/tickets/${agent.tickets['same-org']!.id}/comments`)
    expect(comments.body.data.some((c: { body: string, internal: boolean }) => c.internal && c.body.startsWith(agent.tickets['same-org']!.marker))).toBe(true)
  })
})
