import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../fixtures/app'
import { open, signInThroughPage } from '../fixtures/browser'
import { Client } from '../fixtures/client'
import { mailFixture } from '../fixtures/mail'
import type { MailFixture, MailVars } from '../fixtures/mail'
import { useAppAndBrowser } from '../fixtures/session'

const token = 'inbound-token-for-the-browser-test-0123'
const running = useAppAndBrowser({ INBOUND_EMAIL_TOKEN: token, MAIL_FROM: 'Helpdesk <helpdesk@help.example.test>' })
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

async function send(name: MailFixture, vars: MailVars) {
  const res = await fetch(`${running.app.url}/api/inbound/email`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822', 'authorization': `Bearer ${token}` },
    body: mailFixture(name, vars),
  })
  expect(res.status).toBe(202)
  return (await res.json() as { id: string }).id
}

describe('incoming mail in the browser', () => {
  it('a requester\'s emailed answer shows in the thread with its quoted text behind a toggle; Admin → Mail lists what came in', async () => {
    const admin = await new Client(running.app.url).signIn(ADMIN_EMAIL, ADMIN_PASSWORD)
    const requester = { email: 'gina@customer.example', password: 'gina-long-password-1' }
    expect((await admin.post('/api/admin/users', { ...requester, name: 'Gina Requester' })).status).toBe(201)
    const firstId = `${crypto.randomUUID()}@mail.customer.example`
    const first = await send('new-ticket', { FROM: requester.email, TITLE: 'Printer offline by mail', MESSAGE_ID: firstId })
    await expect.poll(async () => (await admin.get(`/api/admin/mail/inbound/${first}`)).body.result).toBe('created')
    const ticketId = (await admin.get(`/api/admin/mail/inbound/${first}`)).body.ticketId
    const number = (await admin.get(`/api/tickets/${ticketId}`)).body.number
    const reply = await send('gmail-reply', { FROM: requester.email, IN_REPLY_TO: firstId, NUMBER: number })
    await expect.poll(async () => (await admin.get(`/api/admin/mail/inbound/${reply}`)).body.result).toBe('appended')

    const page = await (await running.browser.newContext({ viewport: { width: 390, height: 844 } })).newPage()
    await signInThroughPage(page, running.app.url, requester.email, requester.password)
    await open(page, `${running.app.url}/tickets/${number}`)
    const thread = page.getByTestId('thread')
    await expect.poll(() => thread.textContent()).toContain('Thanks – the printer works again after the restart.')
    expect(await thread.textContent()).not.toContain('Please restart the print spooler')
    await thread.getByRole('button', { name: 'Show quoted text' }).click()
    await expect.poll(() => page.getByTestId('quoted-text').textContent()).toContain('> Please restart the print spooler')

    // The accessibility check injects axe-core, which the app's CSP would (rightly) refuse.
    const adminPage = await (await running.browser.newContext({ viewport: { width: 390, height: 844 }, bypassCSP: true })).newPage()
    await signInThroughPage(adminPage, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open(adminPage, `${running.app.url}/admin/mail`)
    const log = adminPage.getByTestId('inbound-log')
    await expect.poll(() => log.getByTestId('inbound-row').count()).toBe(2)
    expect(await log.textContent()).toContain('Printer offline by mail')
    expect(await log.textContent()).toContain('added to ticket')
    await log.getByRole('link', { name: `#${number}` }).first().click()
    await adminPage.waitForURL(`${running.app.url}/tickets/${number}`)

    await adminPage.goBack()
    await expect.poll(() => adminPage.getByTestId('inbound-row').count()).toBe(2)
    // Back navigation renders the page again: check the log once it stands.
    await adminPage.locator('section[aria-labelledby="mail-inbound"]').waitFor()
    await adminPage.waitForLoadState('networkidle')
    await adminPage.addScriptTag({ path: axePath })
    const violations = await adminPage.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (context: unknown) => Promise<{ violations: { id: string, nodes: { html: string, failureSummary: string }[] }[] }> } }).axe
      return (await axe.run({ include: [['section[aria-labelledby="mail-inbound"]']] })).violations.map(v => `${v.id}: ${v.nodes.map(n => `${n.html} ${n.failureSummary}`).join(' | ')}`)
    })
    expect(violations).toEqual([])
  })
})
