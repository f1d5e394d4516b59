import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import { launchBrowser, open, signInThroughPage } from '../fixtures/browser'
import { signedInAdmin, userClient } from '../fixtures/client'
import type { RunningS3 } from '../fixtures/s3'
import { startS3 } from '../fixtures/s3'

// A 2×2 PNG, enough for a thumbnail to render.
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

let s3: RunningS3
let app: RunningApp
let browser: Browser
beforeAll(async () => {
  s3 = await startS3()
  ;[app, browser] = await Promise.all([startApp(s3.env), launchBrowser()])
})
afterAll(async () => {
  await browser?.close()
  await app?.stop()
  await s3?.stop()
})

describe('attachments in the browser', () => {
  it('a requester uploads files straight to S3 with a progress bar, can cancel one, and downloads the rest byte-identical', async () => {
    const admin = await signedInAdmin(app.url)
    const rita = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Rita Requester' })
    const { body: ticket } = await rita.post('/api/tickets', { title: 'Scanner output is garbled', body: 'See the attached scan.' })
    const login = { email: rita.user.email, password: 'a-long-test-password' }

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
    const page = await context.newPage()
    await signInThroughPage(page, app.url, login.email, login.password)
    await open(page, `${app.url}/tickets/${ticket.number}`)
    const section = page.getByRole('region', { name: 'Attachments' })
    await expect.poll(() => section.textContent()).toContain('No files yet')

    // A slow uplink, so the progress of the upload can be watched.
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 })

    const scan = randomBytes(1024 * 1024)
    const chooser = page.waitForEvent('filechooser')
    await section.getByRole('button', { name: /Attach files/ }).click()
    await (await chooser).setFiles([{ name: 'scan 2026 – März.pdf', mimeType: 'application/pdf', buffer: scan }])
    const bar = section.getByRole('progressbar', { name: 'Uploading scan 2026 – März.pdf' })
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow').catch(() => '0'))).toBeGreaterThan(0)

    // A second file is cancelled half-way and leaves nothing behind.
    const second = page.waitForEvent('filechooser')
    await section.getByRole('button', { name: /Attach files/ }).click()
    await (await second).setFiles([{ name: 'wrong-file.pdf', mimeType: 'application/pdf', buffer: randomBytes(2 * 1024 * 1024) }])
    await section.getByRole('button', { name: 'Cancel upload of wrong-file.pdf' }).click()
    await expect.poll(() => section.getByRole('progressbar', { name: 'Uploading wrong-file.pdf' }).count()).toBe(0)

    await expect.poll(() => section.getByRole('link', { name: 'scan 2026 – März.pdf' }).count(), { timeout: 30_000 }).toBe(1)
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    expect(await section.textContent()).toContain('Rita Requester')
    expect(await section.textContent()).toContain('1.0 MB')
    expect(await section.textContent()).not.toContain('wrong-file.pdf')

    // Pictures show a preview.
    const picture = page.waitForEvent('filechooser')
    await section.getByRole('button', { name: /Attach files/ }).click()
    await (await picture).setFiles([{ name: 'screenshot.png', mimeType: 'image/png', buffer: png }])
    await expect.poll(() => section.getByRole('link', { name: 'screenshot.png' }).count()).toBe(1)
    await expect.poll(() => section.locator('img').first().evaluate(img => (img as HTMLImageElement).naturalWidth)).toBe(2)

    const downloading = page.waitForEvent('download')
    await section.getByRole('link', { name: 'scan 2026 – März.pdf' }).click()
    const download = await downloading
    expect(download.suggestedFilename()).toBe('scan 2026 – März.pdf')
    expect(sha(await readFile((await download.path())!))).toBe(sha(scan))

    const listed = await rita.get(`/api/tickets/${ticket.id}/attachments`)
    expect(listed.body.data.map((a: { filename: string }) => a.filename)).toEqual(['scan 2026 – März.pdf', 'screenshot.png'])
    await context.close()
  })

  it('an agent attaches a file to an internal note that the requester never sees', async () => {
    const admin = await signedInAdmin(app.url)
    const rita = await userClient(admin, 'requester', { orgs: ['acme'] })
    const agent = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Andy Agent' })
    const { body: ticket } = await rita.post('/api/tickets', { title: 'Laptop battery swollen', body: 'Please help.' })

    const context = await browser.newContext()
    const page = await context.newPage()
    await signInThroughPage(page, app.url, agent.user.email, 'a-long-test-password')
    await open(page, `${app.url}/tickets/${ticket.number}`)
    await page.getByLabel('Internal note').check()
    await page.getByPlaceholder(/internal note/).fill('Warranty papers attached')
    const chooser = page.waitForEvent('filechooser')
    await page.getByRole('button', { name: 'Attach to note' }).click()
    await (await chooser).setFiles([{ name: 'warranty.txt', mimeType: 'text/plain', buffer: Buffer.from('serial 123') }])
    await page.getByRole('button', { name: 'Add note' }).click()
    await expect.poll(() => page.getByTestId('thread').getByRole('link', { name: 'warranty.txt' }).count()).toBe(1)
    await context.close()

    expect((await rita.get(`/api/tickets/${ticket.id}/attachments`)).body.data).toEqual([])
    expect((await agent.get(`/api/tickets/${ticket.id}/attachments`)).body.data.map((a: { filename: string }) => a.filename)).toEqual(['warranty.txt'])
  })
})
