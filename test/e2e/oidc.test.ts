import { randomBytes } from 'node:crypto'
import Redis from 'ioredis'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { freePort, startApp } from '../fixtures/app'
import { launchBrowser } from '../fixtures/browser'
import type { TestIdp } from '../fixtures/idp'
import { oidcAppEnv, startIdp, testRedisUrl } from '../fixtures/idp'

const ACCESS_TOKEN_TTL = 2
let idp: TestIdp
let app: RunningApp
let browser: Browser
const prefix = `hd-e2e-${randomBytes(4).toString('hex')}`

beforeAll(async () => {
  const port = await freePort()
  idp = await startIdp({ appUrls: [`http://127.0.0.1:${port}`], accessTokenTtl: ACCESS_TOKEN_TTL })
  ;[app, browser] = await Promise.all([startApp({ ...oidcAppEnv(idp, prefix), PORT: String(port) }), launchBrowser()])
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
  await idp?.stop()
  const redis = new Redis(testRedisUrl)
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length) await redis.del(...keys)
  await redis.quit()
})

const expireAccessToken = (page: Page) => page.waitForTimeout(ACCESS_TOKEN_TTL * 1000 + 150)

async function sendReply(page: Page, text: string) {
  await page.getByLabel('Reply').fill(text)
  await page.getByRole('button', { name: 'Send reply' }).click()
}

describe('single sign-on in the browser', () => {
  it('signs in through the IdP, keeps working across expiry, and recovers from a revoked refresh token once', async () => {
    idp.accounts.set('olga', { email: 'olga@example.test', name: 'Olga Agent', groups: ['helpdesk-agents', 'helpdesk-org-acme', 'helpdesk-agents'] })
    const context = await browser.newContext()
    const page = await context.newPage()

    // Signed out, a deep link goes through the IdP's login page and back to where it pointed.
    await page.goto(`${app.url}/tickets/new`)
    await page.waitForURL(url => url.href.startsWith(idp.issuer))
    await page.getByPlaceholder('Enter any login').fill('olga')
    await page.getByPlaceholder('and password').fill('any password')
    await page.getByRole('button', { name: 'Sign-in' }).click()
    await page.waitForURL(`${app.url}/tickets/new`)
    await expect.poll(() => page.getByTestId('me-name').textContent()).toBe('Olga Agent')

    // The access token expires; creating a ticket still just works (renewed on the server).
    const renewals = idp.refreshes.granted
    await expireAccessToken(page)
    await page.getByLabel('Title').fill('VPN drops every hour')
    await page.getByLabel('Description').fill('Since the update on Monday.')
    await page.getByRole('button', { name: 'Create ticket' }).click()
    await page.waitForURL(/\/tickets\/\d+$/)
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('VPN drops every hour')
    expect(idp.refreshes.granted).toBeGreaterThan(renewals)
    const ticketUrl = page.url()
    await sendReply(page, 'Still happening today.')
    await expect.poll(() => page.getByTestId('thread').textContent()).toContain('Still happening today.')

    // The IdP revokes the refresh token: the next API call is a 401, and the plugin takes the
    // browser through sign-in (the IdP session is still there) and back to the ticket.
    await idp.revokeRefreshTokens('olga')
    await expireAccessToken(page)
    const signIns = idp.authorizationRequests.length
    await sendReply(page, 'This reply meets an ended session.')
    await expect.poll(() => idp.authorizationRequests.length).toBe(signIns + 1)
    await page.waitForURL(ticketUrl)
    await expect.poll(() => page.getByTestId('me-name').textContent()).toBe('Olga Agent')
    await sendReply(page, 'Back after signing in again.')
    await expect.poll(() => page.getByTestId('thread').textContent()).toContain('Back after signing in again.')

    // It happens again right away: no bouncing, a signed-out screen with a button instead.
    await idp.revokeRefreshTokens('olga')
    await expireAccessToken(page)
    // Whichever call meets the ended session first (this reply, or the page's live updates and
    // presence in the background), the browser lands on the signed-out screen once.
    await page.getByLabel('Reply').fill('And again.').catch(() => {})
    await page.getByRole('button', { name: 'Send reply' }).click({ timeout: 5000 }).catch(() => {})
    await page.waitForURL(/\/signed-out\?/)
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('You are signed out')
    expect(idp.authorizationRequests.length).toBe(signIns + 1)
    // The button signs in again and comes back to the ticket.
    await page.getByRole('link', { name: 'Sign in' }).click()
    await page.waitForURL(ticketUrl)
    await expect.poll(() => page.getByTestId('thread').textContent()).toContain('Back after signing in again.')

    // Signing out ends the IdP session too: the IdP asks for the login again.
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('button', { name: 'Yes, sign me out' }).click()
    await page.waitForURL(url => url.href.startsWith(idp.issuer) && url.pathname.includes('/interaction/'))
    expect(await page.getByPlaceholder('Enter any login').count()).toBe(1)
    await context.close()
  })
})
