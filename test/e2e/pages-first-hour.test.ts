import { describe, expect, it } from 'vitest'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../fixtures/app'
import { chooseOption, open, reopen, signInThroughPage } from '../fixtures/browser'
import { Client, signedInAdmin, userClient } from '../fixtures/client'
import { useAppAndBrowser } from '../fixtures/session'

/** The first hour in the browser: organisations, users on a phone, a ticket for a caller, clear errors. */
const running = useAppAndBrowser()

describe('the first hour in the browser', () => {
  it('an admin adds, renames and deletes an organisation, and filters users by it', async () => {
    const admin = await signedInAdmin(running.app.url)
    const page = await (await running.browser.newContext()).newPage()
    await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open(page, `${running.app.url}/admin/orgs`)
    const form = page.getByRole('form', { name: 'Add an organisation' })
    await form.getByLabel('Name').fill('Initech Ltd')
    await form.getByLabel('Slug').fill('initech')
    await form.getByLabel('Email domains').fill('initech.example')
    await form.getByRole('button', { name: 'Add organisation' }).click()
    const row = page.getByTestId('org-initech')
    await expect.poll(() => row.textContent()).toContain('initech.example')

    await row.getByRole('button', { name: 'Edit Initech Ltd' }).click()
    await row.getByRole('form').getByLabel('Name').fill('Initech')
    await row.getByRole('form').getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => row.getByRole('paragraph').first().textContent()).toContain('Initech')
    // 'Initech Ltd' contains 'Initech' too: wait for the saved name itself.
    await expect.poll(async () => (await admin.get('/api/admin/orgs?q=initech')).body.data[0].name).toBe('Initech')

    const member = await admin.post('/api/admin/users', { email: 'peter@initech.example', name: 'Peter Gibbons', password: 'a-long-test-password' })
    expect(member.body.orgs).toEqual(['initech'])
    await reopen(page)
    await page.getByTestId('org-initech').getByRole('link', { name: '1 member' }).click()
    await page.waitForURL(/\/admin\/users\?org=initech/)
    await expect.poll(() => page.getByRole('region', { name: 'All users' }).getByRole('listitem').count()).toBe(1)
    await page.getByRole('button', { name: /Clear the organisation filter/ }).click()
    await expect.poll(() => page.getByRole('region', { name: 'All users' }).getByRole('listitem').count()).toBeGreaterThan(1)
    await chooseOption(page, 'Organisation', /Initech/)
    await expect.poll(() => page.getByRole('region', { name: 'All users' }).getByRole('listitem').count()).toBe(1)

    await admin.patch(`/api/admin/users/${member.body.id}`, { orgs: [] })
    await open(page, `${running.app.url}/admin/orgs`)
    await page.getByTestId('org-initech').getByRole('button', { name: 'Delete Initech' }).click()
    await expect.poll(() => page.getByTestId('org-initech').count()).toBe(0)
  })

  it('on a phone, the users list shows whole names and addresses', async () => {
    const admin = await signedInAdmin(running.app.url)
    const long = await userClient(admin, 'manager', { orgs: ['acme'], name: 'Maximiliane Wilhelmine von Hohenzollern-Sigmaringen' })
    const page = await (await running.browser.newContext({ viewport: { width: 390, height: 844 } })).newPage()
    await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open(page, `${running.app.url}/admin/users`)
    const row = page.getByTestId(`user-${long.user.email}`)
    for (const text of [long.user.name, long.user.email]) {
      const cell = row.locator('p').filter({ hasText: text })
      const box = (await cell.boundingBox())!
      expect(box.x).toBeGreaterThanOrEqual(0)
      expect(box.x + box.width).toBeLessThanOrEqual(390)
      // Nothing cut off: the text's full width fits its box.
      expect(await cell.evaluate(el => el.scrollWidth <= el.clientWidth)).toBe(true)
    }
  })

  it('an agent opens a ticket for a caller found by name; the requester sees it as theirs', async () => {
    const admin = await signedInAdmin(running.app.url)
    const agent = { email: 'ada@example.test', password: 'ada-long-password' }
    await admin.post('/api/admin/users', { ...agent, name: 'Ada Agent', role: 'agent', orgs: ['acme'] })
    const caller = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Carla Caller' })
    const page = await (await running.browser.newContext()).newPage()
    await signInThroughPage(page, running.app.url, agent.email, agent.password)
    await open(page, `${running.app.url}/tickets/new`)
    await page.getByRole('button', { name: 'Create ticket' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Title is required. Description is required.')

    await page.getByLabel('Open this ticket for someone else').check()
    await page.getByLabel('Requester').fill('carla')
    await page.getByRole('radio', { name: /Carla Caller/ }).check()
    await page.getByLabel('Title').fill('Phoned in: monitor dead')
    await page.getByLabel('Description').fill('Carla called about her monitor.')
    await page.getByRole('button', { name: 'Create ticket' }).click()
    await page.waitForURL(/\/tickets\/\d+$/)
    const mine = (await caller.get('/api/tickets')).body.data
    expect(mine.map((t: { title: string }) => t.title)).toContain('Phoned in: monitor dead')
  })

  it('a deactivated user who knows the password is told the account is deactivated', async () => {
    const admin = await signedInAdmin(running.app.url)
    const user = await userClient(admin, 'requester')
    await admin.patch(`/api/admin/users/${user.user.id}`, { active: false })
    const page = await (await running.browser.newContext()).newPage()
    await open(page, `${running.app.url}/login`)
    await page.getByLabel('Email').fill(user.user.email)
    await page.getByLabel('Password').fill('a-long-test-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('deactivated')
    await page.getByLabel('Password').fill('the-wrong-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong email or password')
    expect((await new Client(running.app.url).post('/api/auth/login', { email: 'nobody@example.test', password: 'x' })).body.message).toBe('Wrong email or password.')
  })

  it('the overview labels its chart’s days, and a status card opens the queue with that filter', async () => {
    const admin = await signedInAdmin(running.app.url)
    const created = (await admin.post('/api/tickets', { title: 'Overview card check', body: 'Counted as new.' })).body
    const page = await (await running.browser.newContext()).newPage()
    await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open(page, `${running.app.url}/admin`)
    const today = new Intl.DateTimeFormat('en', { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date())
    await expect.poll(() => page.getByTestId('chart-days').textContent()).toContain(today)
    await page.getByRole('link', { name: /^New .*tickets: show them in the queue/ }).click()
    await page.waitForURL(/\/\?status=new$/)
    await expect.poll(() => page.getByTestId('ticket-list').textContent()).toContain(`#${created.number}`)
  })

  it('a page that does not exist keeps the app’s header and navigation', async () => {
    const page = await (await running.browser.newContext()).newPage()
    await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    const response = await page.goto(`${running.app.url}/tickets/999999`)
    expect(response!.status()).toBe(404)
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queue' }).count()).toBe(1)
    await page.goto(`${running.app.url}/no-such-page`)
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(1)
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('does not exist')
  })
})
