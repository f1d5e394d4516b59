import { describe, expect, it } from 'vitest'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../fixtures/app'
import { chooseOption, open, signInThroughPage } from '../fixtures/browser'
import { useAppAndBrowser } from '../fixtures/session'
import { Client, signedInAdmin, userClient } from '../fixtures/client'

const running = useAppAndBrowser()

describe('admin area in the browser', () => {
  it('an admin changes a user’s role, revokes their sessions and reads both in the audit log', async () => {
    const admin = await signedInAdmin(running.app.url)
    const target = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Robin Requester' })
    const page = await (await running.browser.newContext()).newPage()
    await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)

    await page.getByRole('link', { name: 'Admin' }).click()
    await page.waitForURL(`${running.app.url}/admin`)
    await expect.poll(() => page.getByRole('heading', { name: 'Median first response' }).count()).toBe(1)

    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).click()
    const row = page.getByTestId(`user-${target.user.email}`)
    await row.getByRole('button', { name: /Edit/ }).click()
    await chooseOption(row, 'Role', 'Agent')
    await row.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => row.getByRole('form').count()).toBe(0)
    await expect.poll(() => row.textContent()).toMatch(/agent/i)
    expect((await target.get('/api/me')).body.roles).toEqual(['agent'])

    await row.getByRole('button', { name: /Edit/ }).click()
    await row.getByRole('button', { name: 'Revoke all sessions' }).click()
    await expect.poll(() => row.getByRole('status').textContent()).toContain('signed out everywhere')
    expect((await target.get('/api/me')).status).toBe(401)

    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Audit log' }).click()
    const log = page.getByTestId('audit-log')
    await expect.poll(() => log.textContent()).toContain('sessions revoked')
    expect(await log.textContent()).toContain('user changed')
    await chooseOption(page, 'Show', 'User changed')
    await expect.poll(async () => (await log.textContent())?.includes('sessions revoked')).toBe(false)
    await expect.poll(() => log.textContent()).toContain('roles: requester → agent')
  })

  it('an agent shares a ticket and the link shows it without signing in, then stops working once revoked', async () => {
    const admin = await signedInAdmin(running.app.url)
    const requester = await userClient(admin, 'requester', { orgs: ['acme'] })
    const agentLogin = { email: 'sam@example.test', password: 'sam-long-password' }
    await admin.post('/api/admin/users', { ...agentLogin, name: 'Sam Agent', role: 'agent', orgs: ['acme'] })
    const ticket = (await requester.post('/api/tickets', { title: 'Share me', body: 'Please look' })).body
    await new Client(running.app.url).signIn(agentLogin.email, agentLogin.password).then(a => a.post(`/api/tickets/${ticket.id}/comments`, { body: 'hidden-note-x', internal: true }))

    const page = await (await running.browser.newContext()).newPage()
    await signInThroughPage(page, running.app.url, agentLogin.email, agentLogin.password)
    await open(page, `${running.app.url}/tickets/${ticket.number}`)
    await page.getByRole('button', { name: 'Create link' }).click()
    const url = await page.getByTestId('share-url').inputValue()
    expect(url).toContain('/s/')

    const visitor = await (await running.browser.newContext()).newPage()
    const response = await visitor.goto(url)
    expect(response!.status()).toBe(200)
    await expect.poll(() => visitor.getByRole('heading', { level: 1 }).textContent()).toContain('Share me')
    expect(await visitor.content()).not.toContain('hidden-note-x')

    await page.getByRole('button', { name: 'Revoke' }).click()
    await expect.poll(() => page.getByRole('button', { name: 'Revoke' }).count()).toBe(0)
    expect((await visitor.goto(url))!.status()).toBe(404)
  })
})
