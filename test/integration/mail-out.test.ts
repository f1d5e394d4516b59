import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp } from '../fixtures/app'
import type { RunningApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'
import { testRedisUrl } from '../fixtures/idp'
import { startSmtp } from '../fixtures/smtp'
import type { ReceivedMail, RunningSmtp } from '../fixtures/smtp'
import { startWorker } from '../fixtures/worker'
import type { RunningWorker } from '../fixtures/worker'

/**
 * Outgoing mail end to end with real parts: the app (jobs on bullmq over the real Redis, so it
 * does not send itself), the worker started from the build, and smtp-server as the relay
 * (STARTTLS, AUTH). Every assertion is on the bytes the relay received.
 */

let smtp: RunningSmtp
let app: RunningApp
let worker: RunningWorker
let admin: Client
let owner: postgres.Sql
const redisKeyPrefix = `test-mail-${randomBytes(6).toString('hex')}`

type Person = Client & { user: { id: string, name: string, email: string } }
let requester: Person
let agent: Person
let otherOrgAgent: Person
let assignedOnlyAgent: Person
let otherOrgManager: Person
let adminEmail: string

/** A header as it crossed the wire (unfolded). */
const header = (mail: ReceivedMail, name: string) => {
  const head = mail.raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ')
  return new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1]?.trim()
}
const mailsTo = (who: Person) => smtp.to(who.user.email)

/** Waits until the relay has `total` mails and a moment more, so a stray extra mail is seen too. */
async function settle(total: number) {
  await smtp.waitFor(total)
  // The sweep runs every second: two rounds without a new mail means nothing else is due.
  await new Promise(r => setTimeout(r, 2500))
  expect(smtp.received.length).toBe(total)
}

/** Polls until `probe` returns something. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('gave up waiting')
    await new Promise(r => setTimeout(r, 250))
  }
}

async function outbox(state?: string) {
  const res = await admin.get(`/api/admin/mail/outbox?limit=100${state ? `&state=${state}` : ''}`)
  expect(res.status).toBe(200)
  return res.body.data as { id: string, to: string, state: string, kind: string, attempts: number, lastError: string | null, subject: string }[]
}

beforeAll(async () => {
  smtp = await startSmtp()
  const env = {
    ...smtp.env,
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    MAIL_REPLY_HOLD_SECONDS: '0',
    MAIL_RETRY_BASE_SECONDS: '1',
    MAIL_MAX_ATTEMPTS: '30',
    MAIL_SWEEP_INTERVAL: '1',
  }
  app = await startApp(env)
  worker = await startWorker({ ...env, ...app.databaseEnv, PUBLIC_URL: app.url })
  owner = postgres(app.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
  admin = await signedInAdmin(app.url)
  adminEmail = (await admin.get('/api/me')).body.email
  requester = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Rita Requester' }) as Person
  agent = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Alan Agent' }) as Person
  otherOrgAgent = await userClient(admin, 'agent', { orgs: ['globex'] }) as Person
  assignedOnlyAgent = await userClient(admin, 'agent', { orgs: ['acme'], flags: ['visibility-assigned'] }) as Person
  otherOrgManager = await userClient(admin, 'manager', { orgs: ['globex'] }) as Person
}, 120_000)

afterAll(async () => {
  await worker?.stop()
  await app?.stop()
  await smtp?.stop()
  await owner?.end()
  const { default: Redis } = await import('ioredis')
  const redis = new Redis(testRedisUrl)
  const keys = await redis.keys(`${redisKeyPrefix}:*`)
  if (keys.length) await redis.del(...keys)
  await redis.quit()
})

describe('the worker', () => {
  it('serves its probes on WORKER_PORT and nothing else', async () => {
    expect((await fetch(`${worker.url}/health`)).status).toBe(200)
    const ready = await fetch(`${worker.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', checks: { db: 'ok', redis: 'ok', smtp: 'ok' } })
    expect((await fetch(`${worker.url}/api/tickets`)).status).toBe(404)
    expect((await fetch(`${worker.url}/`)).status).toBe(404)
  })
})

describe('notifications', () => {
  let ticket: { id: string, number: number }

  it('a new ticket: a receipt to its requester and a notice to exactly the staff who can see it', async () => {
    const res = await requester.post('/api/tickets', { title: 'Printer <b>on fire</b> & smoking', body: 'It started\nthis morning.', org: 'acme' })
    expect(res.status).toBe(201)
    ticket = res.body
    await settle(3)
    const receipt = mailsTo(requester)
    expect(receipt).toHaveLength(1)
    expect(receipt[0]!.parsed.subject).toBe(`[#${ticket.number}] Printer <b>on fire</b> & smoking`)
    expect(receipt[0]!.parsed.text).toContain(`as ticket #${ticket.number}`)
    expect(mailsTo(agent)).toHaveLength(1)
    expect(mailsTo(agent)[0]!.parsed.text).toContain('It started')
    expect(smtp.to(adminEmail)).toHaveLength(1)
    // Another organisation's staff and an agent restricted to assigned tickets cannot see it.
    for (const outsider of [otherOrgAgent, assignedOnlyAgent, otherOrgManager]) expect(mailsTo(outsider)).toHaveLength(0)
  })

  it('a mail is a proper thread message: headers, escaped HTML, text part, relayed over STARTTLS with AUTH', async () => {
    const mail = mailsTo(requester)[0]!
    expect(mail.secure).toBe(true)
    expect(mail.user).toBe('helpdesk-relay')
    expect(mail.parsed.from?.value[0]?.address).toBe('support@help.example.test')
    expect(mail.parsed.messageId).toMatch(/^<[^@]+@help\.example\.test>$/)
    expect(mail.parsed.references).toContain(`<ticket-${ticket.id}@help.example.test>`)
    expect(mail.parsed.inReplyTo).toBe(`<ticket-${ticket.id}@help.example.test>`)
    expect(mail.parsed.replyTo?.value[0]?.address).toMatch(new RegExp(`^support\\+${ticket.number}-[0-9a-f]{20}@help\\.example\\.test$`))
    expect(header(mail, 'Auto-Submitted')).toBe('auto-generated')
    expect(header(mail, 'X-Auto-Response-Suppress')).toBe('All')
    expect(header(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click')
    expect(header(mail, 'List-Unsubscribe')).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/api\/mail\/unsubscribe\/[^>]+>$/)
    expect(mail.raw).toMatch(/Content-Type: multipart\/alternative/i)
    expect(mail.parsed.html).toContain('Printer &lt;b&gt;on fire&lt;/b&gt; &amp; smoking')
    expect(mail.parsed.html).not.toContain('<b>on fire</b>')
    // Every mail has its own Message-ID.
    expect(new Set(smtp.received.map(m => m.parsed.messageId)).size).toBe(smtp.received.length)
  })

  it('assigning mails the new assignee, not the person who assigned', async () => {
    const before = smtp.received.length
    expect((await admin.patch(`/api/tickets/${ticket.id}`, { assigneeId: agent.user.id })).status).toBe(200)
    await settle(before + 1)
    expect(mailsTo(agent).at(-1)!.parsed.text).toContain(`assigned ticket #${ticket.number} to you`)
  })

  it('an agent\'s public reply reaches the requester, continuing the thread; internal notes reach nobody', async () => {
    const before = smtp.received.length
    expect((await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Secret: the vendor owes us', internal: true })).status).toBe(201)
    expect((await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Please unplug it <now>.' })).status).toBe(201)
    await settle(before + 1)
    const reply = mailsTo(requester).at(-1)!
    expect(reply.parsed.text).toContain('Alan Agent replied to your request')
    expect(reply.parsed.text).toContain('Please unplug it <now>.')
    expect(reply.parsed.html).toContain('Please unplug it &lt;now&gt;.')
    expect(smtp.received.some(m => m.raw.includes('vendor owes us'))).toBe(false)
    // The reply answers the previous mail of the thread.
    expect(reply.parsed.references).toContain(`<ticket-${ticket.id}@help.example.test>`)
    expect(reply.parsed.inReplyTo).not.toBe(`<ticket-${ticket.id}@help.example.test>`)
    // The author gets no copy of their own reply.
    expect(mailsTo(agent).some(m => m.raw.includes('unplug'))).toBe(false)
  })

  it('the requester\'s reply goes to the assignee only', async () => {
    const before = smtp.received.length
    expect((await requester.post(`/api/tickets/${ticket.id}/comments`, { body: 'Unplugged, still smoking.' })).status).toBe(201)
    await settle(before + 1)
    expect(mailsTo(agent).at(-1)!.parsed.text).toContain('Unplugged, still smoking.')
    expect(smtp.to(adminEmail).some(m => m.raw.includes('still smoking'))).toBe(false)
  })

  it('resolving tells the requester how to reopen', async () => {
    const before = smtp.received.length
    expect((await agent.patch(`/api/tickets/${ticket.id}`, { status: 'resolved' })).status).toBe(200)
    await settle(before + 1)
    const resolved = mailsTo(requester).at(-1)!
    expect(resolved.parsed.text).toContain('as resolved')
    expect(resolved.parsed.text).toContain('reply to this email')
  })
})

describe('opting out', () => {
  it('each user turns notifications off and on', async () => {
    const shown = await agent.get('/api/me/notifications')
    expect(shown.body).toEqual({ email: true, events: { ticket_created: true, reply: true, resolved: true, assigned: true } })
    expect((await agent.request('PUT', '/api/me/notifications', { email: true, events: { ticket_created: false, reply: true, resolved: true, assigned: true } })).status).toBe(200)
    expect((await agent.request('PUT', '/api/me/notifications', { email: 'yes' })).status).toBe(400)
    const before = smtp.received.length
    expect((await requester.post('/api/tickets', { title: 'Muted for the agent', body: 'x', org: 'acme' })).status).toBe(201)
    await settle(before + 2) // receipt + admin
    expect(mailsTo(agent).some(m => m.parsed.subject?.includes('Muted for the agent'))).toBe(false)
    await agent.request('PUT', '/api/me/notifications', { email: true, events: { ticket_created: true, reply: true, resolved: true, assigned: true } })
  })

  it('one-click unsubscribe (RFC 8058) from the mail\'s header turns all mail off', async () => {
    const last = mailsTo(requester).at(-1)!
    const url = header(last, 'List-Unsubscribe')!.slice(1, -1)
    // What a mail provider sends: a POST without cookies, form-encoded.
    const tampered = await fetch(`${url.slice(0, -3)}abc`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })
    expect(tampered.status).toBe(404)
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })
    expect(res.status).toBe(200)
    expect((await requester.get('/api/me/notifications')).body.email).toBe(false)

    const before = smtp.received.length
    const created = await requester.post('/api/tickets', { title: 'After unsubscribing', body: 'x', org: 'acme' })
    await settle(before + 2) // agent + admin, no receipt
    expect(mailsTo(requester).some(m => m.parsed.subject?.includes('After unsubscribing'))).toBe(false)
    await agent.post(`/api/tickets/${created.body.id}/comments`, { body: 'You will not hear of this' })
    await settle(before + 2)
    await requester.request('PUT', '/api/me/notifications', { email: true, events: { ticket_created: true, reply: true, resolved: true, assigned: true } })
  })

  it('a bounced address gets nothing: the mail is kept as suppressed', async () => {
    const bouncer = await userClient(admin, 'requester', { orgs: ['acme'] }) as Person
    await owner`update users set email_bounced_at = now() where id = ${bouncer.user.id}`
    const before = smtp.received.length
    const created = await bouncer.post('/api/tickets', { title: 'From a bouncing address', body: 'x', org: 'acme' })
    await settle(before + 2) // agent + admin
    expect(mailsTo(bouncer)).toHaveLength(0)
    const suppressed = (await outbox('suppressed')).filter(m => m.to === bouncer.user.email)
    expect(suppressed).toHaveLength(1)
    expect(suppressed[0]!.lastError).toMatch(/bounced/)
    expect(created.status).toBe(201)
  })
})

describe('delivery', () => {
  it('while the relay is down mail stays queued with the error, and goes out once when it is back', async () => {
    await smtp.pause()
    const before = smtp.received.length
    const created = await requester.post('/api/tickets', { title: 'Sent while the relay was down', body: 'x', org: 'acme' })
    expect(created.status).toBe(201)
    await expect.poll(async () => (await outbox('queued')).filter(m => m.subject.includes('relay was down') && m.attempts >= 2 && m.lastError).length, { timeout: 30_000 }).toBe(3)
    await smtp.start()
    await settle(before + 3)
    expect(smtp.received.filter(m => m.parsed.subject?.includes('relay was down'))).toHaveLength(3)
    expect((await outbox('sent')).filter(m => m.subject.includes('relay was down'))).toHaveLength(3)
  })

  it('a permanent refusal marks the mail failed with the relay\'s answer; an admin retries it', async () => {
    smtp.rejecting.add(requester.user.email)
    const before = smtp.received.length
    const created = await requester.post('/api/tickets', { title: 'Refused by the relay', body: 'x', org: 'acme' })
    await settle(before + 2) // the staff mails go out
    const failed = await eventually(async () => (await outbox('failed')).find(m => m.subject.includes('Refused by the relay')))
    expect(failed.to).toBe(requester.user.email)
    expect(failed.lastError).toMatch(/550|Mailbox unavailable/)

    const detail = await admin.get(`/api/admin/mail/outbox/${failed.id}`)
    expect(detail.body.text).toContain('Refused by the relay')
    expect(detail.body.html).toContain('<!doctype html>')
    expect(detail.body.headers['Auto-Submitted']).toBe('auto-generated')
    expect((await agent.post(`/api/admin/mail/outbox/${failed.id}/retry`)).status).toBe(403)

    smtp.rejecting.delete(requester.user.email)
    const retried = await admin.post(`/api/admin/mail/outbox/${failed.id}/retry`)
    expect(retried.status).toBe(200)
    await settle(before + 3)
    expect(mailsTo(requester).at(-1)!.parsed.subject).toContain('Refused by the relay')
    expect((await admin.post(`/api/admin/mail/outbox/${failed.id}/retry`)).status).toBe(409)
    expect(created.status).toBe(201)
  })

  it('the outbox is for admins only', async () => {
    expect((await agent.get('/api/admin/mail/outbox')).status).toBe(403)
    expect((await new Client(app.url).get('/api/admin/mail/outbox')).status).toBe(401)
    expect((await admin.get('/api/admin/mail/outbox/not-an-id')).status).toBe(400)
    // Row-level security: the app's role sees no outbox row outside an admin or system context.
    const appDb = postgres(app.databaseEnv.DATABASE_URL, { max: 1, onnotice: () => {} })
    expect(await appDb`select count(*)::int as n from mail_outbox`).toEqual([{ n: 0 }])
    await appDb.end()
  })
})

describe('passwords', () => {
  it('reset: 202 for any address, a single-use link by mail, other sessions end', async () => {
    const person = await userClient(admin, 'requester') as Person
    const secondDevice = await new Client(app.url).signIn(person.user.email, 'a-long-test-password')
    const before = smtp.received.length
    const unknown = await new Client(app.url).post('/api/auth/password-reset', { email: 'nobody@example.test' })
    expect(unknown.status).toBe(202)
    const known = await new Client(app.url).post('/api/auth/password-reset', { email: person.user.email.toUpperCase() })
    expect(known.status).toBe(202)
    expect(known.body).toEqual(unknown.body)
    await settle(before + 1)
    const mail = mailsTo(person).at(-1)!
    expect(mail.parsed.subject).toBe('Reset your Helpdesk password')
    const link = /(http:\/\/\S+\/reset\/([\w-]+))/.exec(mail.parsed.text!)!
    const token = link[2]!

    const anonymous = new Client(app.url)
    expect((await anonymous.post('/api/auth/password-reset/confirm', { token, password: 'short' })).status).toBe(400)
    expect((await anonymous.post('/api/auth/password-reset/confirm', { token, password: 'a-brand-new-password' })).status).toBe(204)
    const reused = await anonymous.post('/api/auth/password-reset/confirm', { token, password: 'another-new-password' })
    expect(reused.status).toBe(400)
    expect(reused.body.data.issues[0].field).toBe('token')

    expect((await person.get('/api/me')).status).toBe(401)
    expect((await secondDevice.get('/api/me')).status).toBe(401)
    expect((await new Client(app.url).post('/api/auth/login', { email: person.user.email, password: 'a-long-test-password' })).status).toBe(401)
    await new Client(app.url).signIn(person.user.email, 'a-brand-new-password')
  })

  it('change: needs the current password, ends the other sessions, keeps this one', async () => {
    const person = await userClient(admin, 'agent', { orgs: ['acme'] }) as Person
    const otherDevice = await new Client(app.url).signIn(person.user.email, 'a-long-test-password')
    const wrong = await person.post('/api/me/password', { current: 'not-it', password: 'a-changed-password' })
    expect(wrong.status).toBe(400)
    expect(wrong.body.data.issues[0].field).toBe('current')
    expect((await person.post('/api/me/password', { current: 'a-long-test-password', password: 'a-changed-password' })).status).toBe(204)
    expect((await person.get('/api/me')).status).toBe(200)
    expect((await otherDevice.get('/api/me')).status).toBe(401)
    await new Client(app.url).signIn(person.user.email, 'a-changed-password')
    expect((await new Client(app.url).post('/api/me/password', { current: 'x', password: 'y-long-enough-yes' })).status).toBe(401)
  })
})
