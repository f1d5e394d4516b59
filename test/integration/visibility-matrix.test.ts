import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tickets, users } from '#server/db/schema'
import { canSeeTicket, ticketVisibility, ticketVisibilityParts, userSeesTicket, visibilityMode } from '#server/services/visibility'
import type { Viewer } from '#server/services/visibility'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import type { Client } from '../fixtures/client'
import { signedInAdmin, userClient } from '../fixtures/client'

/**
 * The authorisation matrix: every role × every ticket route × every kind of ticket, against the
 * design's "who sees which ticket" table (written out here by hand, not derived from the code).
 * It runs three times: over HTTP (both layers together), through the app's own SQL condition on
 * a connection that bypasses row-level security, and through row-level security alone (a query
 * with no WHERE) — so a mistake in either layer fails on its own.
 */
type Role = 'admin' | 'manager' | 'agent' | 'assigned-only agent' | 'requester' | 'org-scope requester' | 'requester without org'
// general: a ticket of a requester without an organisation (the general queue).
type Kind = 'own' | 'same-org' | 'other-org' | 'assigned' | 'general'
const kinds: Kind[] = ['own', 'same-org', 'other-org', 'assigned', 'general']

const sees: Record<Role, Record<Kind, boolean | null>> = {
  'admin': { 'own': true, 'same-org': true, 'other-org': true, 'assigned': true, 'general': true },
  'manager': { 'own': true, 'same-org': true, 'other-org': false, 'assigned': true, 'general': true },
  'agent': { 'own': true, 'same-org': true, 'other-org': false, 'assigned': true, 'general': true },
  'assigned-only agent': { 'own': true, 'same-org': false, 'other-org': false, 'assigned': true, 'general': false },
  // Requesters cannot be assigned tickets.
  'requester': { 'own': true, 'same-org': false, 'other-org': false, 'assigned': null, 'general': false },
  'org-scope requester': { 'own': true, 'same-org': true, 'other-org': false, 'assigned': null, 'general': false },
  'requester without org': { 'own': true, 'same-org': false, 'other-org': false, 'assigned': null, 'general': false },
}
// Each of the five row-level security modes is reached by one of the roles above.
const modeOf: Record<Role, string> = {
  'admin': 'all',
  'manager': 'staff',
  'agent': 'staff',
  'assigned-only agent': 'assigned',
  'requester': 'own',
  'org-scope requester': 'org',
  'requester without org': 'own',
}
const staffRoles = new Set<Role>(['admin', 'manager', 'agent', 'assigned-only agent'])

interface Actor { role: Role, viewer: Viewer, client: Client & { user: { id: string } }, tickets: Partial<Record<Kind, { id: string, number: number, marker: string }>> }

let app: RunningApp
let owner: postgres.Sql
let appRole: postgres.Sql
const actors: Actor[] = []
const internalMarkers: string[] = []

beforeAll(async () => {
  app = await startApp()
  owner = postgres(app.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
  appRole = postgres(app.databaseEnv.DATABASE_URL, { max: 1, onnotice: () => {} })
  const admin = await signedInAdmin(app.url)
  const acmeRequester = await userClient(admin, 'requester', { orgs: ['acme'] })
  const globexRequester = await userClient(admin, 'requester', { orgs: ['globex'] })
  const lonelyRequester = await userClient(admin, 'requester')
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
    const me = (await client.get('/api/me')).body as { roles: string[], orgs: string[] }
    const orgIds = me.orgs.length ? (await owner`select id from orgs where slug in ${owner(me.orgs)}`).map(r => r.id as string) : []
    const actor: Actor = { role, client, viewer: { userId: client.user.id, roles: me.roles, orgIds }, tickets: {} }
    actor.tickets.own = await open(client, `Own ticket of ${role}`)
    actor.tickets['same-org'] = await open(acmeRequester, `Acme ticket for ${role}`)
    actor.tickets['other-org'] = await open(globexRequester, `Globex ticket for ${role}`)
    actor.tickets.general = await open(lonelyRequester, `General queue ticket for ${role}`)
    if (staffRoles.has(role)) {
      const assigned = await open(globexRequester, `Globex ticket assigned to ${role}`)
      expect((await admin.patch(`/api/tickets/${assigned.id}`, { assigneeId: client.user.id })).status).toBe(200)
      actor.tickets.assigned = assigned
    }
    actors.push(actor)
  }
})
afterAll(async () => {
  await owner?.end()
  await appRole?.end()
  await app?.stop()
})

const cases = (Object.keys(sees) as Role[]).flatMap(role =>
  kinds.filter(kind => sees[role][kind] !== null).map(kind => [role, kind] as const))

/** The ids of this actor's tickets that a layer returns, as kind → seen. */
function seenKinds(actor: Actor, ids: Set<string>) {
  return Object.fromEntries(kinds.filter(k => actor.tickets[k]).map(k => [k, ids.has(actor.tickets[k]!.id)]))
}
const expectedKinds = (actor: Actor) => Object.fromEntries(kinds.filter(k => actor.tickets[k]).map(k => [k, sees[actor.role][k]]))

describe('the app’s SQL condition alone (row-level security bypassed)', () => {
  it.each(Object.keys(sees) as Role[])('%s', async (role) => {
    const actor = actors.find(a => a.role === role)!
    const query = new PgDialect().sqlToQuery(sql`select ${tickets.id} from ${tickets} where ${ticketVisibility(actor.viewer)}`)
    const [bypass] = await owner`select rolbypassrls or rolsuper as bypass from pg_roles where rolname = current_user`
    expect(bypass!.bypass).toBe(true)
    const rows = await owner.unsafe(query.sql, query.params as never[])
    expect(seenKinds(actor, new Set(rows.map(r => r.id as string)))).toEqual(expectedKinds(actor))
  })
})

describe('the same rule in disjoint parts (the queue’s capped totals add them up)', () => {
  it.each(Object.keys(sees) as Role[])('%s', async (role) => {
    const actor = actors.find(a => a.role === role)!
    const ids = async (condition: ReturnType<typeof ticketVisibility>) => {
      const query = new PgDialect().sqlToQuery(sql`select ${tickets.id} from ${tickets} where ${condition}`)
      return (await owner.unsafe(query.sql, query.params as never[])).map(r => r.id as string)
    }
    const parts = await Promise.all(ticketVisibilityParts(actor.viewer).map(ids))
    const union = parts.flat()
    expect(new Set(union).size).toBe(union.length)
    expect(new Set(union)).toEqual(new Set(await ids(ticketVisibility(actor.viewer))))
    expect(seenKinds(actor, new Set(union))).toEqual(expectedKinds(actor))
    // The queue's total over HTTP is the same number.
    const visible = await ids(ticketVisibility(actor.viewer))
    expect((await actor.client.get('/api/tickets?limit=1')).body.meta.total).toBe(visible.length)
  })
})

describe('the same rule for one ticket in hand and for “who can see this ticket” (live events, mail)', () => {
  it.each(Object.keys(sees) as Role[])('%s', async (role) => {
    const actor = actors.find(a => a.role === role)!
    const rows = await owner<{ id: string, requesterId: string, assigneeId: string | null, orgId: string | null }[]>`select id, requester_id as "requesterId", assignee_id as "assigneeId", org_id as "orgId" from tickets`
    expect(seenKinds(actor, new Set(rows.filter(t => canSeeTicket(actor.viewer, t)).map(t => t.id)))).toEqual(expectedKinds(actor))
    const query = new PgDialect().sqlToQuery(sql`select ${tickets.id} from ${tickets} where exists (select 1 from ${users} where ${users.id} = ${actor.viewer.userId} and ${userSeesTicket()})`)
    const seenFromUsers = await owner.unsafe(query.sql, query.params as never[])
    expect(seenKinds(actor, new Set(seenFromUsers.map(r => r.id as string)))).toEqual(expectedKinds(actor))
  })
})

describe('row-level security alone (no WHERE clause), in all five modes', () => {
  it('covers every mode', () => {
    expect(new Set(actors.map(a => visibilityMode(a.viewer)))).toEqual(new Set(['all', 'staff', 'assigned', 'org', 'own']))
  })

  it.each(Object.keys(sees) as Role[])('%s', async (role) => {
    const actor = actors.find(a => a.role === role)!
    expect(visibilityMode(actor.viewer)).toBe(modeOf[role])
    const rows = await appRole.begin(async (tx) => {
      await tx`select set_config('app.mode', ${modeOf[role]}, true), set_config('app.user_id', ${actor.viewer.userId}, true), set_config('app.org_ids', ${actor.viewer.orgIds.join(',')}, true), set_config('app.staff', ${staffRoles.has(role) ? 'on' : 'off'}, true)`
      return tx`select id from tickets`
    })
    expect(seenKinds(actor, new Set(rows.map(r => r.id as string)))).toEqual(expectedKinds(actor))
  })
})

describe('search applies the same rule (search_tickets reads copies of the columns)', () => {
  it.each(Object.keys(sees) as Role[])('%s', async (role) => {
    const actor = actors.find(a => a.role === role)!
    // Every ticket's description starts "Body of …": the search finds what the queue lists, and counts only that.
    const listed = (await actor.client.get('/api/tickets?limit=100')).body
    const found = (await actor.client.get('/api/tickets?q=body&limit=100')).body
    const ids = (page: { data: { id: string }[] }) => page.data.map(t => t.id).sort()
    expect(ids(found)).toEqual(ids(listed))
    expect(found.meta.total).toBe(listed.meta.total)
    expect(seenKinds(actor, new Set(ids(found)))).toEqual(expectedKinds(actor))
    // The same with a filter, and by number: an invisible ticket's number finds nothing and no jump.
    const open = (await actor.client.get('/api/tickets?q=body&status=new&limit=100')).body
    expect(ids(open)).toEqual(ids((await actor.client.get('/api/tickets?status=new&limit=100')).body))
    for (const kind of kinds.filter(k => actor.tickets[k])) {
      const byNumber = (await actor.client.get(`/api/tickets?q=%23${actor.tickets[kind]!.number}`)).body
      expect(`${kind}: ${byNumber.meta.jump?.id ?? 'none'}`).toBe(`${kind}: ${sees[role][kind] ? actor.tickets[kind]!.id : 'none'}`)
      // Nor is it counted: the total is what the page shows (a handful of matches at most).
      expect(`${kind}: ${byNumber.meta.total}`).toBe(`${kind}: ${byNumber.data.length}`)
    }
  })
})

const routes = [
  { name: 'GET ticket', call: (c: Client, id: string) => c.get(`/api/tickets/${id}`), ok: 200 },
  { name: 'GET ticket by number', call: (c: Client, _id: string, n: number) => c.get(`/api/tickets/${n}`), ok: 200 },
  { name: 'GET comments', call: (c: Client, id: string) => c.get(`/api/tickets/${id}/comments`), ok: 200 },
  { name: 'GET history', call: (c: Client, id: string) => c.get(`/api/tickets/${id}/events`), ok: 200 },
  { name: 'GET attachments', call: (c: Client, id: string) => c.get(`/api/tickets/${id}/attachments`), ok: 200 },
  { name: 'presign attachment', call: (c: Client, id: string) => c.post(`/api/tickets/${id}/attachments/presign`, { filename: 'matrix.txt', contentType: 'text/plain', size: 5 }), ok: 201 },
  { name: 'POST comment', call: (c: Client, id: string) => c.post(`/api/tickets/${id}/comments`, { body: 'matrix reply' }), ok: 201 },
]

describe('authorisation matrix over HTTP', () => {
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
