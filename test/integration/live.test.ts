import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'
import { EventStream } from '../fixtures/sse'

/**
 * Live events and the one visibility rule: every role follows its queue while tickets are
 * opened, answered, noted internally and changed; each receives exactly what it may see.
 * (Without REDIS_URL: the in-process fan-out. live-redis.test.ts covers replicas.)
 */
type Actor = Awaited<ReturnType<typeof userClient>>
let app: RunningApp
let admin: Client
const roles = ['admin', 'manager', 'agent of acme', 'agent of globex', 'assigned-only agent', 'requester', 'org-visibility requester'] as const
type Role = (typeof roles)[number]
const actors = {} as Record<Role, Actor>
let otherAcmeRequester: Actor

beforeAll(async () => {
  app = await startApp({ LIVE_HEARTBEAT_SECONDS: '1' })
  admin = await signedInAdmin(app.url)
  actors.admin = await userClient(admin, 'admin', { name: 'Ada Admin' })
  actors.manager = await userClient(admin, 'manager', { orgs: ['acme'], name: 'Mia Manager' })
  actors['agent of acme'] = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Alma Agent' })
  actors['agent of globex'] = await userClient(admin, 'agent', { orgs: ['globex'], name: 'Gus Agent' })
  actors['assigned-only agent'] = await userClient(admin, 'agent', { orgs: ['acme'], flags: ['visibility-assigned'], name: 'Olli Assigned' })
  actors.requester = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Rita Requester' })
  actors['org-visibility requester'] = await userClient(admin, 'requester', { orgs: ['acme'], flags: ['visibility-org'], name: 'Otto Org' })
  otherAcmeRequester = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Rolf Requester' })
})
afterAll(() => app?.stop())

/** What a stream received, as readable keys: `<event>:<ticket title>:<detail>`. */
function keysOf(stream: EventStream, titles: Map<string, string>): string[] {
  return stream.events.filter(e => e.event !== 'presence').map((e) => {
    const title = titles.get(e.data.ticketId) ?? '?'
    if (e.event === 'comment') return `comment:${title}:${e.data.comment.internal ? 'internal' : 'public'}`
    if (e.event === 'ticket') return `ticket:${title}:${e.data.fields.join(',')}`
    return `${e.event}:${title}`
  })
}

describe('the queue stream', () => {
  it('gives every role exactly the events of tickets it may see, and requesters nothing of internal notes', async () => {
    const streams = Object.fromEntries(await Promise.all(roles.map(async r => [r, await EventStream.open(actors[r])] as const))) as Record<Role, EventStream>
    for (const r of roles) expect(streams[r].status, r).toBe(200)
    const agent = actors['agent of acme']
    const titles = new Map<string, string>()
    const open = async (by: Client, title: string) => {
      const t = (await by.post('/api/tickets', { title, body: 'Details' })).body
      titles.set(t.id, title)
      return t
    }

    const acme = await open(actors.requester, 'acme printer')
    const otherAcme = await open(otherAcmeRequester, 'acme laptop')
    const globex = await open(await userClient(admin, 'requester', { orgs: ['globex'] }), 'globex vpn')
    expect((await agent.post(`/api/tickets/${acme.id}/comments`, { body: 'We are on it.' })).status).toBe(201)
    const note = await agent.post(`/api/tickets/${acme.id}/comments`, { body: 'SECRET-VENDOR-42', internal: true })
    expect(note.status).toBe(201)
    await agent.patch(`/api/tickets/${acme.id}`, { priority: 'high', tags: ['printer'] })
    await actors.manager.patch(`/api/tickets/${acme.id}`, { assigneeId: actors['assigned-only agent'].user.id })
    await actors['agent of globex'].post(`/api/tickets/${globex.id}/comments`, { body: 'Looking.' })
    // Last, a public change of each ticket: the streams are in order, so after it nothing else is on its way.
    await admin.patch(`/api/tickets/${acme.id}`, { title: 'acme printer!' })
    await admin.patch(`/api/tickets/${globex.id}`, { title: 'globex vpn!' })

    const lastOf: Record<Role, string> = {
      'admin': 'ticket:globex vpn:title',
      'manager': 'ticket:acme printer:title',
      'agent of acme': 'ticket:acme printer:title',
      'agent of globex': 'ticket:globex vpn:title',
      'assigned-only agent': 'ticket:acme printer:title',
      'requester': 'ticket:acme printer:title',
      'org-visibility requester': 'ticket:acme printer:title',
    }
    for (const r of roles) await streams[r].next(e => keysOf({ events: [e] } as EventStream, titles)[0] === lastOf[r])

    // The agent's first reply also takes the new ticket into work (status).
    const acmeStaff = ['ticket:acme printer:created', 'ticket:acme laptop:created', 'comment:acme printer:public', 'ticket:acme printer:status', 'comment:acme printer:internal', 'ticket:acme printer:priority,tags', 'ticket:acme printer:assignee']
    const globexAll = ['ticket:globex vpn:created', 'comment:globex vpn:public', 'ticket:globex vpn:status', 'ticket:globex vpn:title']
    const expected: Record<Role, string[]> = {
      'admin': [...acmeStaff.slice(0, 2), globexAll[0]!, ...acmeStaff.slice(2), globexAll[1]!, globexAll[2]!, 'ticket:acme printer:title', globexAll[3]!],
      'manager': [...acmeStaff, 'ticket:acme printer:title'],
      'agent of acme': [...acmeStaff, 'ticket:acme printer:title'],
      'agent of globex': globexAll,
      // Hears of the ticket once it is assigned to them, from then on.
      'assigned-only agent': ['ticket:acme printer:assignee', 'ticket:acme printer:title'],
      // Public replies and public changes only: no internal note, no priority or tags.
      'requester': ['ticket:acme printer:created', 'comment:acme printer:public', 'ticket:acme printer:status', 'ticket:acme printer:assignee', 'ticket:acme printer:title'],
      'org-visibility requester': ['ticket:acme printer:created', 'ticket:acme laptop:created', 'comment:acme printer:public', 'ticket:acme printer:status', 'ticket:acme printer:assignee', 'ticket:acme printer:title'],
    }
    for (const r of roles) expect(keysOf(streams[r], titles), r).toEqual(expected[r])

    // Not even a trace of the note: no id, no text, no "internal" flag anywhere in a requester's stream.
    for (const r of ['requester', 'org-visibility requester'] as const) {
      expect(streams[r].raw).not.toContain(note.body.id)
      expect(streams[r].raw).not.toContain('SECRET-VENDOR-42')
      expect(streams[r].raw).not.toContain('"internal":true')
    }
    // The same rule as reading the ticket: whoever heard of a ticket may open it, and nobody else heard of it.
    for (const r of roles) {
      for (const t of [acme, otherAcme, globex]) {
        const heard = streams[r].events.some(e => e.data.ticketId === t.id)
        expect((await actors[r].get(`/api/tickets/${t.id}`)).status, `${r} / ${titles.get(t.id)}`).toBe(heard ? 200 : 404)
      }
    }
    // Idle streams carry heartbeats for the proxies in between.
    await streams.admin.until(() => streams.admin.comments > 0)
    await Promise.all(roles.map(r => streams[r].close()))
  })

  it('resumes after a reconnect with Last-Event-ID, without losing or repeating events', async () => {
    const agent = actors['agent of acme']
    const ticket = (await actors.requester.post('/api/tickets', { title: 'Resume me', body: 'x' })).body
    const first = await EventStream.open(agent, `/api/live?ticket=${ticket.number}`)
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'one' })
    const seen = await first.next(e => e.event === 'comment')
    await first.close()
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'two' })
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'three', internal: true })

    const resumed = await EventStream.open(agent, `/api/live?ticket=${ticket.id}`, { 'last-event-id': seen.id! })
    await resumed.next(e => e.event === 'comment' && e.data.comment.body === 'three')
    expect(resumed.of('comment').map(e => e.data.comment.body)).toEqual(['two', 'three'])
    await resumed.close()

    // The requester resumes the same stretch and misses the note, as a live requester would.
    const requester = await EventStream.open(actors.requester, `/api/live?ticket=${ticket.id}&lastEventId=${encodeURIComponent(seen.id!)}`)
    await actors.requester.post(`/api/tickets/${ticket.id}/comments`, { body: 'four' })
    await requester.next(e => e.event === 'comment' && e.data.comment.body === 'four')
    expect(requester.of('comment').map(e => e.data.comment.body)).toEqual(['two', 'four'])
    await requester.close()
  })

  it('answers 404 for a ticket the caller cannot see and 401 when signed out', async () => {
    const ticket = (await actors.requester.post('/api/tickets', { title: 'Private', body: 'x' })).body
    expect((await EventStream.open(actors['agent of globex'], `/api/live?ticket=${ticket.id}`)).status).toBe(404)
    expect((await EventStream.open(otherAcmeRequester, `/api/live?ticket=${ticket.number}`)).status).toBe(404)
    expect((await EventStream.open(actors.requester, '/api/live?ticket=999999')).status).toBe(404)
    const anonymous = await EventStream.open(new Client(app.url))
    expect(anonymous.status).toBe(401)
  })
})

describe('presence', () => {
  it('shows staff who is viewing or typing; requesters never hear of it', async () => {
    const ticket = (await actors.requester.post('/api/tickets', { title: 'Who is here', body: 'x' })).body
    const manager = await EventStream.open(actors.manager, `/api/live?ticket=${ticket.id}`)
    const requester = await EventStream.open(actors.requester, `/api/live?ticket=${ticket.id}`)
    const agent = actors['agent of acme']
    expect((await agent.post(`/api/tickets/${ticket.id}/presence`, { state: 'typing' })).status).toBe(204)
    const typing = await manager.next(e => e.event === 'presence' && e.data.viewers.length === 1)
    expect(typing.data.viewers[0]).toMatchObject({ id: agent.user.id, name: 'Alma Agent', state: 'typing' })
    expect(Date.parse(typing.data.viewers[0].until)).toBeGreaterThan(Date.now())

    // Whoever opens the ticket now is told at once.
    const later = await EventStream.open(actors.admin, `/api/live?ticket=${ticket.id}`)
    expect((await later.next(e => e.event === 'presence')).data.viewers.map((v: { id: string }) => v.id)).toEqual([agent.user.id])

    expect((await agent.post(`/api/tickets/${ticket.id}/presence`, { state: 'left' })).status).toBe(204)
    await manager.next(e => e.event === 'presence' && e.data.viewers.length === 0)
    // A reply after the presence changes reaches the requester, so its stream is known to be up to date.
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'hello' })
    await requester.next(e => e.event === 'comment')
    expect(requester.of('presence')).toEqual([])

    expect((await actors['agent of globex'].post(`/api/tickets/${ticket.id}/presence`, { state: 'viewing' })).status).toBe(404)
    const bad = await agent.post(`/api/tickets/${ticket.id}/presence`, { state: 'dancing' })
    expect(bad.status).toBe(400)
    expect(bad.body.data.issues[0].field).toBe('state')
    await Promise.all([manager.close(), requester.close(), later.close()])
  })
})

describe('replies that cross', () => {
  it('answers 409 with what is newer, posts nothing, and posts when confirmed', async () => {
    const agent = actors['agent of acme']
    const ticket = (await actors.requester.post('/api/tickets', { title: 'Two answers', body: 'x' })).body
    const seenUpTo = new Date().toISOString()
    await actors.manager.post(`/api/tickets/${ticket.id}/comments`, { body: 'Manager answered first' })
    // Internal notes of others and one's own replies are nothing to contradict.
    await actors.manager.post(`/api/tickets/${ticket.id}/comments`, { body: 'staff chat', internal: true })

    const crossing = await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Agent answer', seenUpTo })
    expect(crossing.status).toBe(409)
    expect(crossing.body.newer.map((n: any) => n.kind === 'comment' ? n.comment.body : `${n.event.type}:${n.event.to}`)).toEqual(['Manager answered first', 'status:open'])
    const thread = async () => (await agent.get(`/api/tickets/${ticket.id}/comments`)).body.data.map((c: { body: string }) => c.body)
    expect(await thread()).toEqual(['Manager answered first', 'staff chat'])

    const confirmed = await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Agent answer', seenUpTo, confirm: true })
    expect(confirmed.status).toBe(201)
    const upToDate = await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Follow-up', seenUpTo: confirmed.body.createdAt })
    expect(upToDate.status).toBe(201)
    expect(await thread()).toEqual(['Manager answered first', 'staff chat', 'Agent answer', 'Follow-up'])

    // A requester is shown public replies only, never the note.
    const requesterCrossing = await actors.requester.post(`/api/tickets/${ticket.id}/comments`, { body: 'Thanks', seenUpTo })
    expect(requesterCrossing.status).toBe(409)
    expect(JSON.stringify(requesterCrossing.body)).not.toContain('staff chat')
    expect((await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'x', seenUpTo: 'yesterday' })).body.data.issues[0].field).toBe('seenUpTo')
  })
})

describe('a long thread', () => {
  it('opens on its newest replies and pages back to the first', async () => {
    const agent = actors['agent of acme']
    const ticket = (await actors.requester.post('/api/tickets', { title: 'Long', body: 'x' })).body
    for (let i = 1; i <= 7; i++) await agent.post(`/api/tickets/${ticket.id}/comments`, { body: `reply ${i}` })
    const bodies: string[] = []
    let cursor = ''
    do {
      const page = (await agent.get(`/api/tickets/${ticket.id}/comments?order=newest&limit=3${cursor ? `&cursor=${cursor}` : ''}`)).body
      bodies.push(...page.data.map((c: { body: string }) => c.body))
      cursor = page.meta.nextCursor ?? ''
    } while (cursor)
    expect(bodies).toEqual(['reply 7', 'reply 6', 'reply 5', 'reply 4', 'reply 3', 'reply 2', 'reply 1'])
    const events = (await agent.get(`/api/tickets/${ticket.id}/events?order=newest&limit=1`)).body
    expect(events.data[0]).toMatchObject({ type: 'status', from: 'new', to: 'open' })
    expect(events.meta.nextCursor).not.toBeNull()
  })

  it('renders Markdown safely in replies and descriptions', async () => {
    const ticket = (await actors.requester.post('/api/tickets', { title: 'Markdown', body: '**Bold** <script>x()</script>' })).body
    expect((await actors.requester.get(`/api/tickets/${ticket.id}`)).body.bodyHtml).toBe('<p><strong>Bold</strong> &lt;script&gt;x()&lt;/script&gt;</p>\n')
    const reply = await actors['agent of acme'].post(`/api/tickets/${ticket.id}/comments`, { body: 'See [docs](https://example.com)' })
    expect(reply.body.html).toContain('<a href="https://example.com" rel="noopener nofollow ugc" target="_blank">docs</a>')
  })
})
