import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { BrowserContext, Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { hydrated } from '../fixtures/browser'
import type { Client } from '../fixtures/client'
import { signedInAdmin, userClient } from '../fixtures/client'
import { useAppAndBrowser } from '../fixtures/session'

/**
 * Every page, for every role, at desktop and phone width: no console error, no hydration
 * warning, no accessibility violation (axe-core, WCAG 2 A and AA, colour contrast included),
 * nothing wider than the screen.
 */
const running = useAppAndBrowser()
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const viewports = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } }
type Role = 'admin' | 'manager' | 'agent' | 'requester' | 'anonymous'

interface Visit { path: string, h1?: string, status?: number }
interface Problem { page: string, problem: string }

/** Opens one page, waits until Vue has hydrated it, and lists what a user or a screen reader would trip over. */
async function check(context: BrowserContext, baseUrl: string, visit: Visit, label: string): Promise<Problem[]> {
  const page: Page = await context.newPage()
  const problems: string[] = []
  const url = `${baseUrl}${visit.path}`
  page.on('console', (m) => {
    const text = m.text()
    // An expected 404 document is reported by Chromium itself; anything else is a finding.
    if (visit.status === 404 && m.location().url === url && /Failed to load resource/.test(text)) return
    if (m.type() === 'error' || /hydration/i.test(text)) problems.push(`console ${m.type()}: ${text}`)
  })
  page.on('pageerror', e => problems.push(`page error: ${e.message}`))
  const response = await page.goto(url)
  if (response?.status() !== (visit.status ?? 200)) problems.push(`answered ${response?.status()}, not ${visit.status ?? 200}`)
  // Hydrated, parts deferred until the browser is idle included (a mismatch there is reported then).
  await hydrated(page)
  await page.evaluate(() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 100))))
  const headings = (await page.getByRole('heading', { level: 1 }).allTextContents()).map(h => h.trim())
  if (headings.length !== 1 || (visit.h1 && headings[0] !== visit.h1)) problems.push(`headings of level 1: ${JSON.stringify(headings)}${visit.h1 ? `, expected ["${visit.h1}"]` : ''}`)

  await page.evaluate(axeSource)
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (c: Document, o: object) => Promise<{ violations: { id: string, help: string, nodes: { target: string[] }[] }[] }> } })
      .axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    return result.violations.map(v => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')})`)
  })
  problems.push(...violations.map(v => `axe ${v}`))
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  if (overflow > 0) problems.push(`the page is ${overflow}px wider than the screen`)
  await page.close()
  return problems.map(problem => ({ page: `${label} ${visit.path}`, problem }))
}

// Signed in through the API (the sign-in page has its own tests): each role's session cookie.
const sessions: Partial<Record<Role, Client>> = {}
const visits = {} as Record<Role, Visit[]>

beforeAll(async () => {
  const { url } = running.app
  const admin = await signedInAdmin(url)
  sessions.admin = admin
  await admin.post('/api/admin/orgs', { slug: 'acme', name: 'Acme Inc.', domains: ['acme.example'] })
  const people = {
    manager: await userClient(admin, 'manager', { orgs: ['acme'], name: 'Morgan Manager' }),
    agent: await userClient(admin, 'agent', { orgs: ['acme'], name: 'Avery Agent' }),
    requester: await userClient(admin, 'requester', { orgs: ['acme'], name: 'Riley Requester with a rather long name' }),
  }
  Object.assign(sessions, people)
  const ticket = (await people.requester.post('/api/tickets', { title: 'The printer on the third floor', body: 'It prints nothing but blank pages.' })).body
  await people.agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Looking into it.' })
  await people.agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Staff only: toner order', internal: true })
  await people.agent.patch(`/api/tickets/${ticket.id}`, { status: 'open', priority: 'high', tags: ['hardware'] })
  const share = (await people.agent.post(`/api/tickets/${ticket.id}/share`, {})).body as { url: string }

  const everyone: Visit[] = [
    { path: '/' },
    { path: '/tickets/new', h1: 'New ticket' },
    { path: `/tickets/${ticket.number}` },
    { path: '/no-such-page', status: 404 },
  ]
  const managers: Visit[] = [
    { path: '/admin', h1: 'Overview' },
    { path: '/admin/users', h1: 'Users' },
    { path: '/admin/orgs', h1: 'Organisations' },
    { path: '/admin/audit', h1: 'Audit log' },
  ]
  Object.assign(visits, {
    admin: [...everyone, ...managers, { path: '/admin/storage', h1: 'Storage' }],
    manager: [...everyone, ...managers],
    agent: everyone,
    requester: everyone,
    anonymous: [{ path: '/login', h1: 'Sign in to Helpdesk' }, { path: new URL(share.url).pathname }, { path: '/s/this-link-was-never-issued-to-anyone', status: 404 }],
  })
})

const cases = Object.keys(viewports).flatMap(size => (['admin', 'manager', 'agent', 'requester', 'anonymous'] as Role[]).map(role => [role, size] as const))

describe('every page, every role, desktop and phone', () => {
  it.each(cases)('%s at %s size: no console error, hydration warning, accessibility violation or overflow', async (role, size) => {
    const { url } = running.app
    const context = await running.browser.newContext({ viewport: viewports[size as keyof typeof viewports] })
    const cookies = role === 'anonymous' ? [] : sessions[role]!.cookie.split('; ').filter(Boolean)
    await context.addCookies(cookies.map((c) => {
      const at = c.indexOf('=')
      return { name: c.slice(0, at), value: c.slice(at + 1), url }
    }))
    const problems: Problem[] = []
    for (const visit of visits[role]) problems.push(...await check(context, url, visit, `${role} ${size}`))
    await context.close()
    expect(problems).toEqual([])
  })
})
