import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_EMAIL, ADMIN_PASSWORD, startApp } from '../fixtures/app'
import type { RunningApp } from '../fixtures/app'
import { launchBrowser, open, reopen, signInThroughPage } from '../fixtures/browser'
import { Client, signedInAdmin } from '../fixtures/client'
import { startSmtp } from '../fixtures/smtp'
import type { RunningSmtp } from '../fixtures/smtp'

/**
 * Email in the browser, with real parts: smtp-server as the requesters' mail server, the relay
 * endpoint as the way their answers come back, Chromium for the people.
 */

const inboundToken = 'inbound-token-for-the-browser-test-000'
let smtp: RunningSmtp
let app: RunningApp
let browser: Browser

beforeAll(async () => {
  smtp = await startSmtp()
  ;[app, browser] = await Promise.all([
    startApp({ ...smtp.env, INBOUND_EMAIL_TOKEN: inboundToken, MAIL_REPLY_HOLD_SECONDS: '0' }),
    launchBrowser(),
  ])
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
  await smtp?.stop()
})

/** Polls until `probe` returns something (mail arrives when the job has run). */
async function eventually<T>(probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('gave up waiting')
    await new Promise(r => setTimeout(r, 200))
  }
}

/** Console problems a person would not see but that mean a broken page (hydration, CSP, errors). */
async function watchConsole(page: Page): Promise<string[]> {
  const problems: string[] = []
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', e => console.error(`CSP violation: ${e.violatedDirective} ${e.sourceFile}:${e.lineNumber} ${e.sample}`))
  })
  page.on('console', (m) => {
    // An API's refusal the page shows (e.g. a used reset link) is logged by the browser, not a problem.
    if ((m.type() === 'error' && !m.text().startsWith('Failed to load resource')) || /hydration/i.test(m.text())) problems.push(m.text())
  })
  page.on('pageerror', e => problems.push(e.message))
  return problems
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
/** axe-core's findings on the page; evaluated through the devtools protocol, so the page's CSP stays as it is. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource)
  return page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (o: object) => Promise<{ violations: { id: string, nodes: { target: string[] }[] }[] }> } })
      .axe.run({ resultTypes: ['violations'] })
    return result.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)
  })
}

describe('email in the browser', () => {
  it('an agent\'s reply reaches the requester\'s inbox, the emailed answer appears in the thread, Admin → Mail shows both', async () => {
    const admin = await signedInAdmin(app.url)
    const requester = { email: 'mia@customer.example', password: 'mia-long-password', name: 'Mia Requester' }
    const agent = { email: 'olga@example.test', password: 'olga-long-password', name: 'Olga Agent' }
    await admin.post('/api/admin/users', { ...requester, role: 'requester', orgs: ['acme'] })
    await admin.post('/api/admin/users', { ...agent, role: 'agent', orgs: ['acme'] })
    const requesterApi = await new Client(app.url).signIn(requester.email, requester.password)
    const ticket = (await requesterApi.post('/api/tickets', { title: 'VPN drops every hour', body: 'Since Monday.', org: 'acme' })).body
    await smtp.waitFor(3) // receipt, agent, admin

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
    const page = await context.newPage()
    await signInThroughPage(page, app.url, agent.email, agent.password)
    await open(page, `${app.url}/tickets/${ticket.number}`)
    await page.getByLabel('Reply').fill('Please update the VPN client to 5.2.')
    await page.getByRole('button', { name: 'Send reply' }).click()
    await expect.poll(() => page.getByTestId('thread').textContent()).toContain('Please update the VPN client to 5.2.')

    // The requester's inbox (the test mail server) receives the reply.
    const mail = await eventually(() => smtp.to(requester.email).find(m => m.parsed.text?.includes('VPN client to 5.2')))
    expect(mail.parsed.subject).toBe(`[#${ticket.number}] VPN drops every hour`)
    const replyTo = mail.parsed.replyTo!.value[0]!.address!

    // They answer from their mail program: the mail comes back through the relay endpoint.
    const answer = [
      `From: ${requester.name} <${requester.email}>`,
      `To: ${replyTo}`,
      `Subject: Re: ${mail.parsed.subject}`,
      `Message-ID: <answer-${Date.now()}@customer.example>`,
      `In-Reply-To: ${mail.parsed.messageId}`,
      `References: ${mail.parsed.messageId}`,
      `Date: ${new Date().toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Updated to 5.2, the connection holds now. Thank you!',
      '',
      `On ${new Date().toUTCString()}, Helpdesk <support@help.example.test> wrote:`,
      '> Please update the VPN client to 5.2.',
      '',
    ].join('\r\n')
    const relayed = await fetch(`${app.url}/api/inbound/email`, { method: 'POST', headers: { 'content-type': 'message/rfc822', 'authorization': `Bearer ${inboundToken}` }, body: answer })
    expect(relayed.status).toBe(202)

    await expect.poll(async () => {
      await reopen(page)
      return page.getByTestId('thread').textContent()
    }, { timeout: 30_000 }).toContain('Updated to 5.2, the connection holds now.')
    expect(await page.getByTestId('thread').textContent()).not.toContain('> Please update')
    await context.close()

    // Admin → Mail: the reply in the outbox, sent; the answer in the inbound log.
    const adminContext = await browser.newContext()
    const adminPage = await adminContext.newPage()
    const adminProblems = await watchConsole(adminPage)
    await signInThroughPage(adminPage, app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open(adminPage, `${app.url}/admin`)
    await adminPage.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Mail' }).click()
    await adminPage.waitForURL(`${app.url}/admin/mail`)
    const outbox = adminPage.getByTestId('outbox')
    await expect.poll(() => outbox.textContent()).toContain(`to ${requester.email}`)
    const sentReply = adminPage.getByTestId('outbox-row').filter({ hasText: `to ${requester.email} · reply` })
    await expect.poll(() => sentReply.textContent()).toContain('Sent')
    await sentReply.getByRole('button', { name: `[#${ticket.number}] VPN drops every hour` }).click()
    await expect.poll(() => adminPage.getByTestId('mail-text').textContent()).toContain('Please update the VPN client to 5.2.')
    await adminPage.keyboard.press('Escape')
    // axe below must not catch the dialog half faded out.
    await expect.poll(() => adminPage.getByRole('dialog').count()).toBe(0)
    await expect.poll(() => adminPage.getByTestId('inbound-log').textContent(), { timeout: 30_000 }).toContain(requester.email)
    expect(await adminPage.getByTestId('inbound-log').textContent()).toContain(`#${ticket.number}`)
    expect(await axeViolations(adminPage)).toEqual([])
    expect(adminProblems, adminProblems.join('\n')).toEqual([])
    await adminContext.close()
  })

  it('a forgotten password is reset from the sign-in page through the mailed link', async () => {
    const admin = await signedInAdmin(app.url)
    const person = { email: 'fred@example.test', password: 'fred-old-password', name: 'Fred Forgetful' }
    await admin.post('/api/admin/users', { ...person, role: 'requester', orgs: [] })
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
    const page = await context.newPage()
    const problems = await watchConsole(page)
    await open(page, `${app.url}/login`)
    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await page.waitForURL(`${app.url}/reset`)
    expect(await axeViolations(page)).toEqual([])
    await page.getByLabel('Email').fill(person.email)
    await page.getByRole('button', { name: 'Send reset link' }).click()
    await expect.poll(() => page.getByRole('status').textContent()).toContain('a link to choose a new password is on its way')

    const link = await eventually(() => /http:\/\/\S+\/reset\/[\w-]+/.exec(smtp.to(person.email).at(-1)?.parsed.text ?? '')?.[0])
    await open(page, link)
    await page.getByLabel('New password', { exact: true }).fill('fred-new-password')
    await page.getByLabel('Repeat the new password').fill('fred-new-password')
    await page.getByRole('button', { name: 'Set password' }).click()
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Your password is changed')
    await page.getByRole('link', { name: 'Sign in' }).click()
    await page.getByLabel('Email').fill(person.email)
    await page.getByLabel('Password').fill('fred-new-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(url => !url.pathname.startsWith('/login'))

    // The link works once.
    await open(page, link)
    await page.getByLabel('New password', { exact: true }).fill('fred-third-password')
    await page.getByLabel('Repeat the new password').fill('fred-third-password')
    await page.getByRole('button', { name: 'Set password' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('expired or was already used')
    expect(problems, problems.join('\n')).toEqual([])
    await context.close()
  })

  it('people choose their notifications on the Settings page', async () => {
    const admin = await signedInAdmin(app.url)
    const person = { email: 'sam@example.test', password: 'sam-long-password', name: 'Sam Settings' }
    await admin.post('/api/admin/users', { ...person, role: 'agent', orgs: ['acme'] })
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
    const page = await context.newPage()
    const problems = await watchConsole(page)
    await signInThroughPage(page, app.url, person.email, person.password)
    await page.getByRole('link', { name: 'Settings' }).click()
    await page.waitForURL(`${app.url}/settings`)
    expect(await axeViolations(page)).toEqual([])
    const replies = page.getByRole('checkbox', { name: 'Replies' })
    await expect.poll(() => replies.getAttribute('aria-checked')).toBe('true')
    await replies.click()
    await page.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => page.getByText('Notification settings saved.').count()).toBeGreaterThan(0)
    await reopen(page)
    await expect.poll(() => page.getByRole('checkbox', { name: 'Replies' }).getAttribute('aria-checked')).toBe('false')
    const saved = await new Client(app.url).signIn(person.email, person.password)
    expect((await saved.get('/api/me/notifications')).body.events.reply).toBe(false)
    expect(problems, problems.join('\n')).toEqual([])
    await context.close()
  })
})
