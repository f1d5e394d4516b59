import { describe, expect, it } from 'vitest'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../fixtures/app'
import { chooseOption, open, reopen, signInThroughPage } from '../fixtures/browser'
import { useAppAndBrowser } from '../fixtures/session'
import { signedInAdmin } from '../fixtures/client'

const running = useAppAndBrowser()

describe('in the browser', () => {
  it('a requester signs in, opens a ticket, replies and sees the agent’s answer but not the internal note', async () => {
    const admin = await signedInAdmin(running.app.url)
    const requester = { email: 'rita@example.test', password: 'rita-long-password' }
    await admin.post('/api/admin/users', { ...requester, name: 'Rita Requester', role: 'requester', orgs: ['acme'] })
    const agentLogin = { email: 'andy@example.test', password: 'andy-long-password' }
    await admin.post('/api/admin/users', { ...agentLogin, name: 'Andy Agent', role: 'agent', orgs: ['acme'] })

    const context = await running.browser.newContext({ viewport: { width: 390, height: 844 } })
    const page = await context.newPage()
    // Signed out, a deep link goes through sign-in and back to where it pointed.
    await open(page, `${running.app.url}/tickets/new`)
    await page.waitForURL(/\/login\?redirect=/)
    await page.getByLabel('Email').fill(requester.email)
    await page.getByLabel('Password').fill('wrong-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong email or password')
    await page.getByLabel('Password').fill(requester.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${running.app.url}/tickets/new`)

    await page.getByLabel('Title').fill('Cannot print from the 3rd floor')
    await page.getByLabel('Description').fill('The printer shows error E42.')
    await page.getByRole('button', { name: 'Create ticket' }).click()
    await page.waitForURL(/\/tickets\/\d+$/)
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('Cannot print from the 3rd floor')
    const number = page.url().split('/').pop()!

    await page.getByLabel('Reply').fill('It also happens with colour prints.')
    await page.getByRole('button', { name: 'Send reply' }).click()
    await expect.poll(() => page.getByTestId('thread').textContent()).toContain('It also happens with colour prints.')

    // An agent answers and leaves an internal note, in their own running.browser.
    const agentContext = await running.browser.newContext()
    const agentPage = await agentContext.newPage()
    await signInThroughPage(agentPage, running.app.url, agentLogin.email, agentLogin.password)
    await agentPage.getByRole('link', { name: /Cannot print from the 3rd floor/ }).click()
    await agentPage.getByLabel('Reply').fill('Replacing the toner now.')
    await agentPage.getByRole('button', { name: 'Send reply' }).click()
    await expect.poll(() => agentPage.getByTestId('thread').textContent()).toContain('Replacing the toner now.')
    await agentPage.getByLabel('Internal note').check()
    await agentPage.getByPlaceholder(/internal note/).fill('Vendor ticket VX-99, do not share')
    await agentPage.getByRole('button', { name: 'Add note' }).click()
    await expect.poll(() => agentPage.getByTestId('thread').textContent()).toContain('Vendor ticket VX-99')
    await agentPage.getByLabel('Status').click()
    await agentPage.getByRole('option', { name: 'Pending' }).click()
    await expect.poll(() => agentPage.getByTestId('thread').textContent()).toContain('changed the status from open to pending')

    await reopen(page)
    const thread = page.getByTestId('thread')
    await expect.poll(() => thread.textContent()).toContain('Replacing the toner now.')
    expect(await thread.textContent()).not.toContain('VX-99')
    expect(await page.getByTestId('ticket-status').textContent()).toContain('Pending')

    // The list shows the ticket; the requester marks it resolved from the ticket page.
    await open(page, `${running.app.url}/`)
    await expect.poll(() => page.getByTestId('ticket-list').textContent()).toContain(`#${number}`)
    await open(page, `${running.app.url}/tickets/${number}`)
    await page.getByRole('button', { name: 'Mark as resolved' }).click()
    await page.getByRole('button', { name: 'Yes, it is resolved' }).click()
    await expect.poll(() => page.getByTestId('ticket-status').textContent()).toContain('Resolved')
    await context.close()
    await agentContext.close()
  })

  it('shows a designed empty state and the admin’s users page', async () => {
    const context = await running.browser.newContext()
    const page = await context.newPage()
    await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open(page, `${running.app.url}/?q=nothing-matches-this`)
    await expect.poll(() => page.getByRole('heading', { name: 'No tickets match' }).count()).toBe(1)
    await page.getByRole('link', { name: 'Admin' }).click()
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).click()
    await page.getByLabel('Name').fill('Nina New')
    await page.getByLabel('Email').fill('nina@example.test')
    await page.getByLabel('Password').fill('nina-long-password')
    await chooseOption(page, 'Role', 'Agent')
    await page.getByRole('button', { name: 'Add user' }).click()
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Nina New can now sign in')
    await expect.poll(() => page.getByRole('region', { name: 'All users' }).textContent()).toContain('nina@example.test')
    await context.close()
  })

  it('takes a user whose sessions were revoked back to sign-in, and then to the page they were on', async () => {
    const admin = await signedInAdmin(running.app.url)
    const login = { email: 'rex@example.test', password: 'rex-long-password' }
    const created = await admin.post('/api/admin/users', { ...login, name: 'Rex Requester', role: 'requester' })
    const context = await running.browser.newContext()
    const page = await context.newPage()
    await signInThroughPage(page, running.app.url, login.email, login.password)
    await open(page, `${running.app.url}/tickets/new`)
    await page.getByLabel('Title').fill('Monitor flickers')
    expect((await admin.delete(`/api/admin/users/${created.body.id}/sessions`)).status).toBe(204)
    await page.getByLabel('Description').fill('Only on Mondays.')
    await page.getByRole('button', { name: 'Create ticket' }).click()
    await page.waitForURL(/\/login\?redirect=/)
    await page.getByLabel('Email').fill(login.email)
    await page.getByLabel('Password').fill(login.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${running.app.url}/tickets/new`)
    await context.close()
  })

  it('keeps what someone typed into the reply box before it hydrated', async () => {
    const admin = await signedInAdmin(running.app.url)
    const ticket = (await admin.post('/api/tickets', { title: 'VPN drops every hour', body: 'Since Monday.' })).body
    const context = await running.browser.newContext()
    const page = await context.newPage()
    await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    // The reply box's code arrives late (a slow phone, a slow network): every script asked for
    // after the page has been parsed waits 1.5 s, so the person types into the server's box.
    let parsed = false
    page.on('domcontentloaded', () => (parsed = true))
    await page.route('**/_nuxt/**', async (route) => {
      if (parsed) await new Promise(resolve => setTimeout(resolve, 1500))
      await route.continue()
    })
    await page.goto(`${running.app.url}/tickets/${ticket.number}`, { waitUntil: 'domcontentloaded' })
    await page.locator('#reply').fill('Restarting the gateway fixes it for a while.')
    expect(await page.evaluate(() => document.documentElement.dataset.hydrated)).toBeUndefined()
    await page.waitForFunction(() => document.documentElement.dataset.hydrated === 'true')
    expect(await page.getByLabel('Reply').inputValue()).toBe('Restarting the gateway fixes it for a while.')
    await page.getByRole('button', { name: 'Send reply' }).click()
    await expect.poll(() => page.getByTestId('thread').textContent()).toContain('Restarting the gateway fixes it for a while.')
    await context.close()
  })
})
