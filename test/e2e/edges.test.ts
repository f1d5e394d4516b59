import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../fixtures/app'
import { open, signInThroughPage } from '../fixtures/browser'
import { useAppAndBrowser } from '../fixtures/session'

const running = useAppAndBrowser()

describe('browser-facing protection', () => {
  it('runs the app under its Content-Security-Policy without a single violation', async () => {
    const context = await running.browser.newContext()
    const page = await context.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', e => problems.push(e.message))
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', e => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`))
    })
    const first = await open(page, `${running.app.url}/login`)
    expect(first!.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-/)
    await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await open(page, `${running.app.url}/tickets/new`)
    await page.getByLabel('Title').fill('CSP check')
    await page.getByLabel('Description').fill('Hydrated and working.')
    await page.getByRole('button', { name: 'Create ticket' }).click()
    await page.waitForURL(/\/tickets\/\d+$/)
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('CSP check')
    expect(problems).toEqual([])

    // The policy is enforced: a script without the nonce does not run.
    const injected = await page.evaluate(() => {
      const s = document.createElement('script')
      s.textContent = 'window.__injected = true'
      document.body.append(s)
      return (window as { __injected?: boolean }).__injected === true
    })
    expect(injected).toBe(false)
    await context.close()
  })

  it('refuses a form that another site posts with the signed-in user’s cookie', async () => {
    // Another origin on the same site (cookies with SameSite=Lax still go along).
    const attacker = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><form id="f" method="POST" action="${running.app.url}/api/tickets">
        <input name="title" value="Forged ticket"><input name="body" value="posted from another origin"></form>
        <script>document.getElementById('f').submit()</script>`)
    })
    await new Promise<void>(resolve => attacker.listen(0, '127.0.0.1', resolve))
    try {
      const context = await running.browser.newContext()
      const page = await context.newPage()
      await signInThroughPage(page, running.app.url, ADMIN_EMAIL, ADMIN_PASSWORD)
      const answer = page.waitForResponse(r => r.url() === `${running.app.url}/api/tickets` && r.request().method() === 'POST')
      await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`)
      const res = await answer
      expect(res.request().headers().cookie ?? (await res.request().allHeaders()).cookie).toMatch(/hd_auth=/)
      expect(res.status()).toBe(403)
      const list = await page.request.get(`${running.app.url}/api/tickets?q=Forged`)
      expect((await list.json()).data).toEqual([])
      await context.close()
    }
    finally {
      attacker.close()
    }
  })
})
