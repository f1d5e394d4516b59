import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp } from '../fixtures/app'
import type { RunningApp } from '../fixtures/app'
import { signedInAdmin, userClient } from '../fixtures/client'
import { startSmtp } from '../fixtures/smtp'
import type { RunningSmtp } from '../fixtures/smtp'

/**
 * The zero-install start: no Redis and no worker. Without SMTP_HOST mail is kept and the
 * start-up says so; with it, the app itself runs the jobs and sends.
 */

describe('without an SMTP relay', () => {
  let app: RunningApp
  beforeAll(async () => {
    app = await startApp({ MAIL_SWEEP_INTERVAL: '1' })
  })
  afterAll(() => app?.stop())

  it('says so at start-up, keeps every mail queued in the outbox and shows it to admins', async () => {
    expect(app.output()).toContain('Mail is not sent (no SMTP_HOST): notifications wait in the outbox, Admin → Mail')
    const admin = await signedInAdmin(app.url)
    const requester = await userClient(admin, 'requester', { orgs: ['acme'] })
    expect((await requester.post('/api/tickets', { title: 'Kept, not sent', body: 'x', org: 'acme' })).status).toBe(201)
    // Several sweeps later the mail is still waiting, untouched.
    await new Promise(r => setTimeout(r, 2500))
    const outbox = await admin.get('/api/admin/mail/outbox')
    const kept = outbox.body.data.filter((m: { subject: string }) => m.subject.endsWith('Kept, not sent'))
    expect(kept.map((m: { to: string, state: string, attempts: number }) => [m.to, m.state, m.attempts]).sort()).toEqual([
      ['admin@example.test', 'queued', 0],
      [requester.user.email, 'queued', 0],
    ].sort())
    const settings = await admin.get('/api/admin/mail/settings')
    expect(settings.body.smtp.configured).toBe(false)
  })
})

describe('with a relay and no Redis', () => {
  let smtp: RunningSmtp
  let app: RunningApp
  beforeAll(async () => {
    smtp = await startSmtp()
    app = await startApp({ ...smtp.env, MAIL_REPLY_HOLD_SECONDS: '4' })
  })
  afterAll(async () => {
    await app?.stop()
    await smtp?.stop()
  })

  it('the app sends by itself; a reply\'s mail lists the files uploaded with it', async () => {
    expect(app.output()).toContain(`Mail is sent through 127.0.0.1:${smtp.port}`)
    const admin = await signedInAdmin(app.url)
    const requester = await userClient(admin, 'requester', { orgs: ['acme'] })
    const agent = await userClient(admin, 'agent', { orgs: ['acme'] })
    const ticket = (await requester.post('/api/tickets', { title: 'Zero install', body: 'x', org: 'acme' })).body
    // The receipt and the two staff notices went out together, over one connection to the relay
    // (one handshake and AUTH, not one per mail).
    const together = await smtp.waitFor(3)
    expect(together.map(m => m.parsed.subject)).toEqual(Array(3).fill(`[#${ticket.number}] Zero install`))
    expect(new Set(together.map(m => m.connection)).size).toBe(1)

    const reply = await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'See the attached notes.' })
    expect(reply.status).toBe(201)
    const form = new FormData()
    form.append('commentId', reply.body.id)
    form.append('file', new Blob(['step one'], { type: 'text/plain' }), 'notes.txt')
    expect((await agent.fetch(`/api/tickets/${ticket.id}/attachments`, { method: 'POST', body: form })).status).toBe(201)

    await smtp.waitFor(4)
    const mail = smtp.to(requester.user.email).at(-1)!
    expect(mail.parsed.text).toContain('See the attached notes.')
    expect(mail.parsed.text).toContain('- notes.txt (8 bytes)')
    expect(mail.parsed.html).toContain('<li>notes.txt (8 bytes)</li>')
    // The relay has the mail; the outbox marks it sent once the relay's answer is back.
    const sentReply = async () => (await admin.get('/api/admin/mail/outbox?state=sent')).body.data
      .find((m: { to: string, subject: string, kind: string }) => m.to === requester.user.email && m.kind === 'reply')
    await expect.poll(sentReply).toBeTruthy()
    const sent = await sentReply()
    // The outbox keeps the message as it was sent.
    expect((await admin.get(`/api/admin/mail/outbox/${sent.id}`)).body.text).toContain('notes.txt')
  })
})
