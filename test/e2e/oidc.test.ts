import { randomBytes } from 'node:crypto'
import Redis from 'ioredis'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { freePort, startApp } from '../fixtures/app'
import { hydrated, launchBrowser } from '../fixtures/browser'
import type { FaultProxy } from '../fixtures/fault-proxy'
import { startFaultProxy } from '../fixtures/fault-proxy'
import type { TestIdp } from '../fixtures/idp'
import { oidcAppEnv, startIdp, testRedisUrl } from '../fixtures/idp'

const ACCESS_TOKEN_TTL = 2
let idp: TestIdp
let app: RunningApp
let browser: Browser
/** Between the IdP and both the app and the browser. */
let idpProxy: FaultProxy
const prefix = `hd-e2e-${randomBytes(4).toString('hex')}`

beforeAll(async () => {
  const port = await freePort()
  idp = await startIdp({
    appUrls: [`http://127.0.0.1:${port}`],
    accessTokenTtl: ACCESS_TOKEN_TTL,
    publicOrigin: async (idpPort) => {
      idpProxy = await startFaultProxy({ port: idpPort })
      return `http://${idpProxy.address}`
    },
  })
  ;[app, browser] = await Promise.all([startApp({ ...oidcAppEnv(idp, prefix), PORT: String(port) }), launchBrowser()])
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
  await idp?.stop()
  await idpProxy?.stop()
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

async function signInAtIdp(page: Page, login: string) {
  await page.waitForURL(url => url.href.startsWith(idp.issuer))
  await page.getByPlaceholder('Enter any login').fill(login)
  await page.getByPlaceholder('and password').fill('any password')
  await page.getByRole('button', { name: 'Sign-in' }).click()
}

const sessionCookie = async (page: Page) => (await page.context().cookies()).find(c => c.name === 'nuxt-oidc-auth')?.value

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
    await hydrated(page)
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
    // The page is rendered on the server: text typed before it hydrates never reaches the form.
    await hydrated(page)
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

  it('keeps people working while the IdP is down, shows an error instead of the sign-in page when renewal needs it, and carries on once it is back', async () => {
    // Long enough for the first steps below to run on a fresh token on a busy machine.
    const TTL = 8
    idp.accessTokenTtl = TTL
    idp.accounts.set('pia', { email: 'pia@example.test', name: 'Pia Agent', groups: ['helpdesk-agents', 'helpdesk-org-acme'] })
    const context = await browser.newContext()
    const page = await context.newPage()
    try {
      await page.goto(`${app.url}/tickets/new`)
      await signInAtIdp(page, 'pia')
      await page.waitForURL(`${app.url}/tickets/new`)
      const signedInAt = Date.now()
      // What is typed before Vue takes the page over is lost to hydration (then "Create ticket"
      // finds an empty form and the page stays where it is).
      await hydrated(page)
      await expect.poll(() => page.getByTestId('me-name').textContent()).toBe('Pia Agent')
      const cookie = await sessionCookie(page)
      const signIns = idp.authorizationRequests.length

      // The IdP goes away; with a fresh access token nothing needs it.
      idpProxy.cut()
      await page.getByLabel('Title').fill('Badge reader offline')
      await page.getByLabel('Description').fill('Door 3 since this morning.')
      await page.getByRole('button', { name: 'Create ticket' }).click()
      await page.waitForURL(/\/tickets\/\d+$/)
      const ticketUrl = page.url()
      await sendReply(page, 'Written while the IdP is down.')
      await expect.poll(() => page.getByTestId('thread').textContent()).toContain('Written while the IdP is down.')

      // The token expires: the next action says the sign-in service is unavailable, and the page,
      // the reply and the session stay (no trip to the sign-in page).
      await page.waitForTimeout(Math.max(0, signedInAt + TTL * 1000 + 150 - Date.now()))
      await sendReply(page, 'Sent once the IdP is back.')
      await expect.poll(() => page.getByRole('alert').filter({ hasText: 'sign-in service' }).textContent()).toContain('The sign-in service is unavailable')
      expect(page.url()).toBe(ticketUrl)
      expect(await page.getByLabel('Reply').inputValue()).toBe('Sent once the IdP is back.')
      expect(await page.getByTestId('me-name').textContent()).toBe('Pia Agent')

      // Back: the same session renews, and the reply goes out.
      idpProxy.restore()
      await page.getByRole('button', { name: 'Send reply' }).click()
      await expect.poll(() => page.getByTestId('thread').textContent()).toContain('Sent once the IdP is back.')
      expect(page.url()).toBe(ticketUrl)
      expect(await sessionCookie(page)).toBe(cookie)
      expect(idp.authorizationRequests.length).toBe(signIns)

      // Someone signing in while the IdP is down gets a page saying so, not a browser error; its
      // link signs in once the IdP is back.
      idpProxy.cut()
      const newcomer = await browser.newPage()
      await newcomer.goto(`${app.url}/tickets/new`)
      await expect.poll(() => newcomer.getByRole('heading', { level: 1 }).textContent()).toBe('Sign-in is unavailable')
      expect(await newcomer.textContent('main')).toContain('The sign-in service is not answering right now. Try again in a minute.')
      idpProxy.restore()
      await newcomer.getByRole('link', { name: 'Try again' }).click()
      await signInAtIdp(newcomer, 'pia')
      await newcomer.waitForURL(`${app.url}/tickets/new`)
      await expect.poll(() => newcomer.getByTestId('me-name').textContent()).toBe('Pia Agent')
      await newcomer.close()
    }
    finally {
      idpProxy.restore()
      idp.accessTokenTtl = ACCESS_TOKEN_TTL
      await context.close()
    }
  })
})
