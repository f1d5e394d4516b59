import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { ADMIN_EMAIL, ADMIN_PASSWORD, adminDatabaseUrl, createTestDatabase, startApp } from '../fixtures/app'
import { launchBrowser, reopen, signInThroughPage } from '../fixtures/browser'
import type { FaultProxy } from '../fixtures/fault-proxy'
import { startFaultProxy } from '../fixtures/fault-proxy'

/** In the browser, an outage is an error to retry, never "signed out" (plugins/api-recovery.client.ts). */
describe('the browser during an outage', () => {
  let proxy: FaultProxy
  let app: RunningApp
  let browser: Browser
  let database: Awaited<ReturnType<typeof createTestDatabase>>

  beforeAll(async () => {
    proxy = await startFaultProxy({ port: Number(new URL(adminDatabaseUrl).port || 5432) })
    database = await createTestDatabase()
    const viaProxy = new URL(database.url)
    viaProxy.host = proxy.address
    ;[app, browser] = await Promise.all([
      startApp({ DATABASE_URL: viaProxy.toString(), DATABASE_MIGRATION_URL: database.migrationUrl, DB_TIMEOUT_MS: '1500' }),
      launchBrowser(),
    ])
  })
  afterAll(async () => {
    await browser?.close()
    await app?.stop()
    await database?.drop()
    await proxy?.stop()
  })

  it('keeps the signed-in page when the API answers 503, and a read succeeds once the service is back', async () => {
    const page = await browser.newPage()
    await signInThroughPage(page, app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    const signedInAt = page.url()

    proxy.cut()
    const during = await page.evaluate(async () => {
      const res = await fetch('/api/tickets')
      return { status: res.status, body: await res.json() }
    })
    expect(during.status).toBe(503)
    expect(during.body.message).toMatch(/database is not answering/i)
    expect(page.url()).toBe(signedInAt)

    // The database returns while the read is being retried: the page gets the list, not an error.
    const read = page.evaluate(async () => (await fetch('/api/tickets')).status)
    await new Promise(r => setTimeout(r, 300))
    proxy.restore()
    expect(await read).toBe(200)
    expect(page.url()).toBe(signedInAt)
    await reopen(page)
    expect(new URL(page.url()).pathname).not.toBe('/login')

    // Reloading during the outage keeps the signed-in page: the app remembers a session it looked up
    // a moment ago (5 s), and the queue says what failed, with a way to try again.
    proxy.cut()
    await page.reload()
    const failed = page.getByRole('alert').filter({ hasText: 'Could not load this' })
    await expect.poll(() => failed.textContent(), { timeout: 15_000 }).toMatch(/database is not answering/i)
    expect(page.url()).toBe(signedInAt)
    proxy.restore()
    await failed.getByRole('button', { name: 'Try again' }).click()
    await expect.poll(() => failed.count(), { timeout: 15_000 }).toBe(0)

    // Once the session has to be looked up again, reloading shows the outage, not the sign-in page;
    // "Try again" brings the page back.
    proxy.cut()
    await expect.poll(async () => {
      await page.reload()
      return page.getByRole('heading', { level: 1 }).textContent()
    }, { timeout: 20_000, intervals: [1000] }).toContain('cannot reach a service')
    expect(page.url()).toBe(signedInAt)
    proxy.restore()
    await page.getByRole('link', { name: 'Try again' }).click()
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 }).toContain('Queue')
    expect(page.url()).toBe(signedInAt)
    await page.close()
  })
})
