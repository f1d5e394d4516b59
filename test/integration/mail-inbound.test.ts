import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_EMAIL, ADMIN_PASSWORD, startApp } from '../fixtures/app'
import type { RunningApp } from '../fixtures/app'
import { Client } from '../fixtures/client'
import { mailFixture } from '../fixtures/mail'
import type { MailFixture, MailVars } from '../fixtures/mail'

const token = 'inbound-token-for-the-tests-0123456789'
const helpdesk = 'helpdesk@help.example.test'
const password = 'a-password-for-tests-1234'

let app: RunningApp
let admin: Client
let owner: postgres.Sql

beforeAll(async () => {
  app = await startApp({
    INBOUND_EMAIL_TOKEN: token,
    MAIL_FROM: `Helpdesk <${helpdesk}>`,
    MAIL_REPLY_TO: helpdesk,
    MAIL_INBOUND_RATE: '3/1h',
    MAIL_INBOUND_MAX_BYTES: String(2 * 1024 * 1024),
    MAX_UPLOAD_BYTES: String(64 * 1024),
  })
  admin = await new Client(app.url).signIn(ADMIN_EMAIL, ADMIN_PASSWORD)
  owner = postgres(app.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
  await owner`insert into orgs (slug, name, email_domains) values ('acme', 'ACME', '{acme.example}')`
})

afterAll(async () => {
  await owner?.end()
  await app?.stop()
})

function relay(body: Buffer | string, headers: Record<string, string> = {}) {
  return fetch(`${app.url}/api/inbound/email`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822', 'authorization': `Bearer ${token}`, ...headers },
    body,
  })
}

interface Outcome { id: string, state: string, result: string | null, ticketId: string | null, reason: string | null }

/** Hands a message to the relay endpoint and waits until the worker has decided about it. */
async function deliver(raw: Buffer): Promise<Outcome> {
  const res = await relay(raw)
  expect(res.status).toBe(202)
  return decided(((await res.json()) as { id: string }).id)
}

/** The outcome of a stored message once the worker has decided about it. */
async function decided(id: string): Promise<Outcome> {
  let outcome: Outcome
  await expect.poll(async () => {
    outcome = (await admin.get<Outcome>(`/api/admin/mail/inbound/${id}`)).body
    return outcome.state
  }, { timeout: 20_000, interval: 100 }).not.toBe('queued')
  return outcome!
}

const send = (name: MailFixture, vars: MailVars = {}) => deliver(mailFixture(name, vars))

async function createUser(email: string, role = 'requester', orgs: string[] = []) {
  const res = await admin.post('/api/admin/users', { email, name: email.split('@')[0], password, role, orgs })
  expect(res.status).toBe(201)
  return new Client(app.url).signIn(email, password)
}

const ticket = async (id: string) => (await admin.get(`/api/tickets/${id}`)).body
const comments = async (id: string) => (await admin.get(`/api/tickets/${id}/comments`)).body.data as { body: string, internal: boolean, author: { name: string } }[]
const ticketCount = async () => Number((await owner`select count(*)::int as n from tickets`)[0]!.n)
const storedCount = async () => Number((await owner`select count(*)::int as n from inbound_messages`)[0]!.n)

/** The signed Reply-To address the outgoing side puts on mail about ticket `number` (same key and settings as the app). */
async function replyAddressOf(number: number): Promise<string> {
  Object.assign(process.env, { SETTINGS_ENCRYPTION_KEY: 'test-settings-key-that-is-long-enough-for-aes', MAIL_FROM: `Helpdesk <${helpdesk}>`, MAIL_REPLY_TO: helpdesk })
  const { replyAddress } = await import('../../server/services/mail/addresses')
  return replyAddress(number)
}

/** A ticket opened by mail, and the Message-ID of that mail (which replies then reference). */
async function openTicket(from: string, vars: MailVars = {}) {
  const messageId = `${crypto.randomUUID()}@mail.customer.example`
  const outcome = await send('new-ticket', { FROM: from, MESSAGE_ID: messageId, ...vars })
  expect(outcome).toMatchObject({ state: 'processed', result: 'created' })
  const t = await ticket(outcome.ticketId!)
  return { id: t.id as string, number: t.number as number, messageId }
}

describe('the relay endpoint', () => {
  it('refuses a missing or wrong token, a body that is not a message and one over the limit, storing nothing', async () => {
    const before = await storedCount()
    const raw = mailFixture('new-ticket')
    expect((await relay(raw, { authorization: '' })).status).toBe(401)
    expect((await relay(raw, { authorization: 'Bearer wrong-token-wrong-token-wrong' })).status).toBe(401)
    const notMail = await relay('{"subject":"hello"}', { 'content-type': 'application/json' })
    expect(notMail.status).toBe(400)
    expect((await notMail.json()).message).toMatch(/body/)
    const huge = Buffer.concat([mailFixture('new-ticket'), Buffer.alloc(3 * 1024 * 1024, 'a')])
    expect((await relay(huge)).status).toBe(413)
    expect(await storedCount()).toBe(before)
  })

  it('answers 202 with an id once stored; admins read the outcome, the list and the raw message, others may not', async () => {
    const raw = mailFixture('new-ticket', { FROM: 'raw.reader@customer.example', TITLE: 'Raw message kept' })
    const outcome = await deliver(raw)
    expect(outcome).toMatchObject({ state: 'processed', result: 'created', reason: null })
    const download = await admin.fetch(`/api/admin/mail/inbound/${outcome.id}/raw`)
    expect(download.headers.get('content-type')).toMatch(/message\/rfc822/)
    expect(Buffer.from(await download.arrayBuffer()).equals(raw)).toBe(true)
    const log = await admin.get(`/api/admin/mail/inbound?limit=5`)
    expect(log.body.data.find((e: { id: string }) => e.id === outcome.id)).toMatchObject({ from: 'raw.reader@customer.example', subject: 'Raw message kept', result: 'created' })
    const agent = await createUser('log.agent@help.example.test', 'agent')
    expect((await agent.get(`/api/admin/mail/inbound/${outcome.id}`)).status).toBe(403)
    expect((await admin.get('/api/admin/mail/inbound/00000000-0000-4000-8000-000000000000')).status).toBe(404)
    // Only a failed message can be processed again.
    expect((await admin.post(`/api/admin/mail/inbound/${outcome.id}/retry`)).status).toBe(409)
  })
})

describe('who wrote it', () => {
  it('a stranger becomes a requester without a password, in the organisation of their mail domain', async () => {
    const outcome = await send('new-ticket', { FROM: 'New.Person@ACME.example', FROM_NAME: 'Nora Person', TITLE: 'VPN broken' })
    const t = await ticket(outcome.ticketId!)
    expect(t).toMatchObject({ title: 'VPN broken', status: 'new', requester: { name: 'Nora Person' }, org: { slug: 'acme' } })
    const [user] = await owner`select email, password_hash from users where id = ${t.requester.id}`
    expect(user).toEqual({ email: 'new.person@acme.example', password_hash: null })
  })

  it('a known user is recognised whatever the case of the address', async () => {
    await createUser('bob@customer.example')
    const outcome = await send('new-ticket', { FROM: 'Bob@Customer.EXAMPLE' })
    const t = await ticket(outcome.ticketId!)
    const [user] = await owner`select email from users where id = ${t.requester.id}`
    expect(user!.email).toBe('bob@customer.example')
  })
})

describe('threading', () => {
  it('a reply naming an earlier message of the thread is added to its ticket, quoted history stripped but kept', async () => {
    const original = await openTicket('gina@customer.example')
    const outcome = await send('gmail-reply', { FROM: 'gina@customer.example', IN_REPLY_TO: original.messageId, NUMBER: 1 })
    expect(outcome).toMatchObject({ state: 'processed', result: 'appended', ticketId: original.id })
    const [reply] = await comments(original.id)
    expect(reply!.body).toBe('Thanks – the printer works again after the restart.\nI’ll let you know if it happens again.\n\nAnn')
    // "Show quoted text": the whole mail, for those who see the reply.
    const quotes = await admin.get(`/api/tickets/${original.number}/mail-quotes`)
    expect(quotes.body.data).toHaveLength(1)
    expect(quotes.body.data[0].fullText).toContain('> Please restart the print spooler')
    const stranger = await createUser('quote.stranger@elsewhere.example')
    expect((await stranger.get(`/api/tickets/${original.number}/mail-quotes`)).status).toBe(404)
  })

  it('a reply to our own mail threads by our Message-ID or by the signed Reply-To token; a tampered token does not', async () => {
    const original = await openTicket('tess@customer.example')
    // A notification the outgoing side sent about the ticket: its Message-ID is part of the thread.
    const ours = `${Date.now().toString(36)}.notification@help.example.test`
    await owner`insert into mail_message_ids (message_id, ticket_id) values (${ours}, ${original.id})`
    expect(await send('gmail-reply', { FROM: 'tess@customer.example', IN_REPLY_TO: ours, NUMBER: 1 })).toMatchObject({ result: 'appended', ticketId: original.id })

    const address = await replyAddressOf(original.number)
    expect(address).toMatch(new RegExp(`^helpdesk\\+${original.number}-[0-9a-f]{20}@help\\.example\\.test$`))
    const byToken = await send('new-ticket', { FROM: 'tess@customer.example', TO: address, TITLE: 'Re: your answer', BODY: 'Answer by token.' })
    expect(byToken).toMatchObject({ result: 'appended', ticketId: original.id, reason: 'reply threaded by token' })
    const tampered = address.replace(/-(.)/, (_, c: string) => `-${c === '0' ? '1' : '0'}`)
    expect((await send('new-ticket', { FROM: 'tess@customer.example', TO: tampered, TITLE: 'Re: your answer' })).result).toBe('created')
    expect((await comments(original.id)).map(c => c.body)).toEqual([expect.stringContaining('Thanks'), 'Answer by token.'])
  })

  it('[#n] in the subject from the requester adds to the ticket (Outlook, windows-1252, winmail.dat)', async () => {
    const original = await openTicket('otto@customer.example')
    const outcome = await send('outlook-reply', { FROM: 'otto@customer.example', NUMBER: original.number })
    expect(outcome).toMatchObject({ result: 'appended', ticketId: original.id })
    const [reply] = await comments(original.id)
    expect(reply!.body).toContain('the invoice still shows 120 € instead of 100 €. It’s the “Pro” plan.')
    expect(reply!.body).not.toContain('Could you tell us which invoice')
    expect(reply!.body).toContain('winmail.dat (files of type application/ms-tnef are not accepted)')
  })

  it('a stranger cannot add to someone else\'s ticket with [#n] or by quoting its Message-ID: they get a new ticket', async () => {
    const original = await openTicket('victim@customer.example')
    const byNumber = await send('gmail-reply', { FROM: 'mallory@evil.example', NUMBER: original.number })
    const byReference = await send('gmail-reply', { FROM: 'mallory@evil.example', IN_REPLY_TO: original.messageId })
    for (const outcome of [byNumber, byReference]) {
      expect(outcome.result).toBe('created')
      expect(outcome.ticketId).not.toBe(original.id)
      expect(outcome.reason).toMatch(/may not add/)
    }
    expect(await comments(original.id)).toEqual([])
  })

  it('staff replying by mail answer publicly; a requester\'s reply reopens a resolved ticket', async () => {
    // The agent sees the tickets of ACME, where the requester's mail domain places her.
    await createUser('ann.agent@help.example.test', 'agent', ['acme'])
    const original = await openTicket('rita@acme.example')
    const byAgent = await send('new-ticket', { FROM: 'Ann.Agent@help.example.test', TITLE: `Re: [#${original.number}] Printer`, BODY: 'Please restart it.' })
    expect(byAgent).toMatchObject({ result: 'appended', ticketId: original.id })
    expect(await comments(original.id)).toMatchObject([{ body: 'Please restart it.', internal: false, author: { name: 'ann.agent' } }])
    expect((await ticket(original.id)).status).toBe('open')

    expect((await admin.patch(`/api/tickets/${original.id}`, { status: 'resolved' })).status).toBe(200)
    const byRequester = await send('thunderbird', { FROM: 'rita@acme.example', NUMBER: original.number })
    expect(byRequester).toMatchObject({ result: 'appended', ticketId: original.id })
    expect((await ticket(original.id)).status).toBe('open')
    // Bottom-posted (Thunderbird), ISO-8859-1 in base64; the signature is stripped.
    expect((await comments(original.id)).at(-1)!.body).toBe('It is version 4.2 on Windows 11. Grüße aus München!')
  })

  it('a message received twice yields one ticket', async () => {
    const raw = mailFixture('new-ticket', { FROM: 'twice@customer.example', TITLE: 'Sent twice' })
    const first = await deliver(raw)
    const tickets = await ticketCount()
    const second = await deliver(raw)
    expect(first.result).toBe('created')
    expect(second).toMatchObject({ state: 'ignored', result: 'duplicate', ticketId: first.ticketId })
    expect(await ticketCount()).toBe(tickets)
  })
})

describe('a message whose processing stopped after it stored something', () => {
  // As the database is when the worker dies right after storing (or fails after it on its last
  // attempt): the ticket or reply and its files are there, the message says nothing of them yet.
  async function stoppedAfterStoring(outcome: Outcome) {
    await owner`update inbound_messages set state = 'failed', result = null, ticket_id = null, comment_id = null,
      reason = 'the worker stopped', processed_at = null, lease_until = null where id = ${outcome.id}`
    await owner`delete from mail_message_ids where ticket_id = ${outcome.ticketId}`
  }
  async function retried(id: string): Promise<Outcome> {
    expect((await admin.post(`/api/admin/mail/inbound/${id}/retry`)).status).toBe(200)
    return decided(id)
  }
  const counted = async (ticketId: string) => (await owner`select
    (select count(*)::int from tickets) as tickets,
    (select count(*)::int from attachments where ticket_id = ${ticketId}) as files,
    (select count(*)::int from comments where ticket_id = ${ticketId}) as replies,
    (select count(*)::int from mail_outbox where ticket_id = ${ticketId}) as mails`)[0]

  it('yields the ticket it stored, with its file and its acknowledgement once, when it runs again', async () => {
    const first = await send('new-ticket-attachment', { FROM: 'gwen@customer.example', TITLE: 'The worker died after this one' })
    expect(first).toMatchObject({ state: 'processed', result: 'created' })
    const before = await counted(first.ticketId!)
    expect(before!.files).toBe(1)
    expect(before!.mails).toBeGreaterThan(0) // the acknowledgement, at least
    await stoppedAfterStoring(first)
    expect(await retried(first.id)).toMatchObject({ state: 'processed', result: 'created', ticketId: first.ticketId })
    expect(await counted(first.ticketId!)).toEqual(before)
  })

  it('yields the reply it stored once, when it runs again', async () => {
    const original = await openTicket('hugo@customer.example')
    const answer = await send('gmail-reply', { FROM: 'hugo@customer.example', IN_REPLY_TO: original.messageId, NUMBER: original.number })
    expect(answer).toMatchObject({ state: 'processed', result: 'appended', ticketId: original.id })
    const before = await counted(original.id)
    await stoppedAfterStoring(answer)
    expect(await retried(answer.id)).toMatchObject({ state: 'processed', result: 'appended', ticketId: original.id })
    expect(await counted(original.id)).toEqual(before)
    expect((await comments(original.id)).filter(c => !c.internal)).toHaveLength(before!.replies)
  })
})

describe('loops and bounces', () => {
  it('an out-of-office reply is recorded on the ticket as an internal note, never answered and never a ticket', async () => {
    const original = await openTicket('olga@customer.example')
    const tickets = await ticketCount()
    const onThread = await send('out-of-office', { FROM: 'olga@customer.example', IN_REPLY_TO: original.messageId, NUMBER: original.number })
    expect(onThread).toMatchObject({ state: 'processed', result: 'appended', ticketId: original.id })
    expect(onThread.reason).toMatch(/automatic reply.*not answered/)
    expect(await comments(original.id)).toMatchObject([{ internal: true }])
    expect((await comments(original.id))[0]!.body).toContain('out of the office until 7 December')
    // Without headers, by its subject (the last resort); on no thread: ignored.
    const alone = await send('out-of-office-plain', { FROM: 'olga@customer.example' })
    expect(alone).toMatchObject({ state: 'ignored', result: null, ticketId: null })
    expect(await ticketCount()).toBe(tickets)
  })

  it('two helpdesks answering each other stop after one round: the other\'s acknowledgement is recorded, not answered', async () => {
    await createUser('support@othercorp.example')
    const original = await openTicket('support@othercorp.example')
    const tickets = await ticketCount()
    const ack = await send('other-helpdesk', { FROM: 'support@othercorp.example', IN_REPLY_TO: original.messageId, NUMBER: original.number })
    expect(ack).toMatchObject({ result: 'appended', ticketId: original.id })
    expect(await comments(original.id)).toMatchObject([{ internal: true }])
    expect(await ticketCount()).toBe(tickets)
  })

  it('mail from our own address or with our own Message-ID domain is ignored', async () => {
    const tickets = await ticketCount()
    const fromUs = await send('new-ticket', { FROM: 'helpdesk+abc123@help.example.test' })
    const ourId = await send('new-ticket', { FROM: 'someone@customer.example', MESSAGE_ID: `${crypto.randomUUID()}@help.example.test` })
    expect(fromUs).toMatchObject({ state: 'ignored', result: null })
    expect(fromUs.reason).toMatch(/loop/)
    expect(ourId).toMatchObject({ state: 'ignored', result: null })
    expect(await ticketCount()).toBe(tickets)
  })

  it('a delivery status notification marks the failed recipient as bounced', async () => {
    await createUser('gone@customer.example')
    const outcome = await send('dsn-bounce', { BOUNCED: 'Gone@customer.example' })
    expect(outcome).toMatchObject({ state: 'processed', result: 'bounce' })
    const [user] = await owner`select email_bounced_at from users where email = 'gone@customer.example'`
    expect(user!.email_bounced_at).toBeInstanceOf(Date)
  })

  it(`at most MAIL_INBOUND_RATE new tickets per sender; replies still go through`, async () => {
    const sender = 'flood@customer.example'
    const first = await openTicket(sender)
    for (let i = 0; i < 2; i++) await openTicket(sender)
    const limited = await send('new-ticket', { FROM: sender })
    expect(limited).toMatchObject({ state: 'ignored', result: null, ticketId: null })
    expect(limited.reason).toMatch(/MAIL_INBOUND_RATE/)
    const reply = await send('gmail-reply', { FROM: sender, IN_REPLY_TO: first.messageId })
    expect(reply).toMatchObject({ result: 'appended', ticketId: first.id })
    // Someone else is not affected.
    expect((await send('new-ticket', { FROM: 'calm@customer.example' })).result).toBe('created')
  })
})

describe('content', () => {
  it('attachments are stored through the storage layer; a file over the limit is left out and the ticket says so', async () => {
    const outcome = await send('new-ticket-attachment', { FROM: 'erin@customer.example', TITLE: 'Report fails' })
    const files = (await admin.get(`/api/tickets/${outcome.ticketId}/attachments`)).body.data
    expect(files).toMatchObject([{ filename: 'report.pdf', contentType: 'application/pdf', state: 'ready' }])
    const download = await admin.fetch(`/api/tickets/${outcome.ticketId}/attachments/${files[0].id}`)
    const bytes = Buffer.from(await download.arrayBuffer())
    expect(bytes.subarray(0, 8).toString()).toBe('%PDF-1.4')
    expect(bytes.length).toBe(files[0].size)

    const big = Buffer.alloc(100 * 1024, 7).toString('base64').replace(/(.{76})/g, '$1\r\n')
    const raw = Buffer.from([
      'From: erin@customer.example', 'To: helpdesk@help.example.test', 'Subject: Big log', `Message-ID: <${crypto.randomUUID()}@x.example>`,
      'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'See the log.', '--b',
      'Content-Type: text/plain; name="huge.log"', 'Content-Disposition: attachment; filename="huge.log"', 'Content-Transfer-Encoding: base64', '', big, '--b--', '',
    ].join('\r\n'))
    const left = await deliver(raw)
    expect((await ticket(left.ticketId!)).body).toMatch(/See the log\.[\s\S]*Left out of this mail:\n- huge\.log \(0\.1 MB, over the 0\.1 MB limit\)/)
    expect((await admin.get(`/api/tickets/${left.ticketId}/attachments`)).body.data).toEqual([])
  })

  it('inline cid: pictures become attachments of the reply (Apple Mail)', async () => {
    const original = await openTicket('carla@customer.example')
    const outcome = await send('apple-mail', { FROM: 'carla@customer.example', IN_REPLY_TO: original.messageId })
    expect(outcome).toMatchObject({ result: 'appended', ticketId: original.id })
    expect((await comments(original.id))[0]!.body).toBe('Here is a screenshot of the error.')
    const files = (await admin.get(`/api/tickets/${original.id}/attachments`)).body.data
    expect(files).toMatchObject([{ filename: 'screenshot.png', contentType: 'image/png' }])
  })

  it('HTML-only mail becomes safe text: no scripts, handlers, forms or tracking pixels; links kept', async () => {
    const outcome = await send('html-only', { FROM: 'dana@customer.example', TITLE: 'VPN drops' })
    const { body } = await ticket(outcome.ticketId!)
    expect(body).toContain('Our **VPN** keeps dropping – see [the status page](https://status.example.com/vpn)')
    expect(body).toContain('Köln')
    for (const unsafe of ['<', 'alert', 'steal', 'javascript:', 'tracker.example.net', 'evil.example', 'color: red', 'ignored title']) expect(body).not.toContain(unsafe)
  })

  it('non-UTF-8 charsets are decoded (ISO-2022-JP)', async () => {
    const outcome = await send('iso-2022-jp', { FROM: 'yamada@customer.example' })
    const t = await ticket(outcome.ticketId!)
    expect(t.title).toBe('プリンター故障')
    expect(t.body).toBe('プリンターが動きません。\n至急対応をお願いします。')
    expect(t.requester.name).toBe('山田')
  })
})
