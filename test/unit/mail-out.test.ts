import { beforeAll, describe, expect, it } from 'vitest'
import { embeddedDefaults, parseConfig } from '../../server/utils/config'
import { productionEnv } from '../fixtures/config'

// The signing key and the addresses the modules under test read from the environment.
process.env.SETTINGS_ENCRYPTION_KEY = 'unit-test-settings-key-that-is-long-enough'
process.env.MAIL_FROM = 'Helpdesk <support@help.example.com>'
process.env.MAIL_REPLY_TO = 'support@help.example.com'
process.env.LOG_LEVEL = 'silent'

let addresses: typeof import('../../server/services/mail/addresses')
let render: typeof import('../../server/services/mail/render')
let jobs: typeof import('../../server/services/jobs')
beforeAll(async () => {
  addresses = await import('../../server/services/mail/addresses')
  render = await import('../../server/services/mail/render')
  jobs = await import('../../server/services/jobs')
})

describe('SMTP configuration', () => {
  const production = productionEnv

  it('production refuses plaintext SMTP to a host that is not loopback', () => {
    const relay = { ...production, SMTP_HOST: 'smtp.example.com', MAIL_FROM: 'support@example.com' }
    expect(() => parseConfig({ ...relay, SMTP_REQUIRE_TLS: 'false' })).toThrow(/SMTP_REQUIRE_TLS=false is only allowed for an SMTP relay on loopback/)
    expect(() => parseConfig(relay)).not.toThrow()
    expect(() => parseConfig({ ...relay, SMTP_REQUIRE_TLS: 'false', SMTP_SECURE: 'true', SMTP_PORT: '465' })).not.toThrow()
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]']) expect(() => parseConfig({ ...relay, SMTP_HOST: host, SMTP_REQUIRE_TLS: 'false' })).not.toThrow()
    expect(parseConfig({}).SMTP_REQUIRE_TLS).toBe(true)
    expect(parseConfig({}).SMTP_PORT).toBe(587)
  })

  it('production needs a sender with a relay; without a relay the start-up says mail is kept', () => {
    expect(() => parseConfig({ ...production, SMTP_HOST: 'smtp.example.com' })).toThrow(/MAIL_FROM is required with SMTP_HOST/)
    expect(embeddedDefaults(parseConfig({}))).toContain('no SMTP_HOST: mail is kept in the outbox (Admin → Mail), nothing is sent')
  })

  it('jobs run in the app without Redis; JOBS_IN_PROCESS=false without a queue is refused', () => {
    expect(jobs.jobsInProcess(parseConfig({}))).toBe(true)
    expect(jobs.jobsInProcess(parseConfig({ REDIS_URL: 'redis://r:6379' }))).toBe(false)
    expect(jobs.jobsInProcess(parseConfig({ REDIS_URL: 'redis://r:6379', JOBS_IN_PROCESS: 'true' }))).toBe(true)
    expect(jobs.consumesJobs(parseConfig({ REDIS_URL: 'redis://r:6379' }), 'worker')).toBe(true)
    expect(() => parseConfig({ JOBS_IN_PROCESS: 'false' })).toThrow(/JOBS_IN_PROCESS=false needs REDIS_URL/)
  })
})

describe('reply and unsubscribe tokens', () => {
  it('a Reply-To address names its ticket with a signature nobody can forge', async () => {
    const address = await addresses.replyAddress(1042)
    expect(address).toMatch(/^support\+1042-[0-9a-f]{20}@help\.example\.com$/)
    expect(await addresses.ticketNumberFromAddress(address)).toBe(1042)
    expect(await addresses.ticketNumberFromAddress(`"Support" <${address.toUpperCase()}>`)).toBe(1042)
    const forged = address.replace('+1042-', '+1043-')
    expect(await addresses.ticketNumberFromAddress(forged)).toBeNull()
    expect(await addresses.ticketNumberFromAddress(address.replace('@help.example.com', '@elsewhere.example'))).toBeNull()
    expect(await addresses.ticketNumberFromAddress('support@help.example.com')).toBeNull()
    expect(await addresses.verifyReplyToken('1042-0000000000000000000a')).toBeNull()
  })

  it('an unsubscribe token names its user and resists tampering', async () => {
    const userId = '6f1c2f8e-8d1e-4d7a-9a55-3f1f8d0c2b11'
    const token = await addresses.unsubscribeToken(userId)
    expect(await addresses.verifyUnsubscribeToken(token)).toBe(userId)
    expect(await addresses.verifyUnsubscribeToken(token.replace(userId, '6f1c2f8e-8d1e-4d7a-9a55-3f1f8d0c2b12'))).toBeNull()
    expect(await addresses.verifyUnsubscribeToken(`${token}x`)).toBeNull()
  })

  it('Message-IDs are unique and in our domain', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => addresses.newMessageId()))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(id).toMatch(/^[\w.-]+@help\.example\.com$/)
  })
})

describe('the mail template', () => {
  it('escapes everything people wrote in the HTML part and keeps it readable in the text part', () => {
    const { text, html } = render.renderMail({
      intro: 'Eve <script>alert(1)</script> replied',
      quote: { author: 'Eve "the" <admin>', text: 'Line one\nLine <b>two</b>\n\nNext & last' },
      files: [{ name: '<img src=x onerror=alert(1)>.pdf', size: 2048 }],
      action: { label: 'Open', url: 'https://help.example.com/tickets/1?a="b"' },
      footer: 'Footer & more',
      replyable: true,
    })
    expect(html).not.toMatch(/<script|<b>|<img|onerror=alert\(1\)>/)
    expect(html).toContain('Eve &lt;script&gt;alert(1)&lt;/script&gt; replied')
    expect(html).toContain('Line &lt;b&gt;two&lt;/b&gt;')
    expect(html).toContain('href="https://help.example.com/tickets/1?a=&quot;b&quot;"')
    expect(text.startsWith(render.replyAboveLine)).toBe(true)
    expect(text).toContain('  Line <b>two</b>')
    expect(text).toContain('- <img src=x onerror=alert(1)>.pdf (2.0 KB)')
    expect(text).toContain('Open: https://help.example.com/tickets/1?a="b"')
  })
})

describe('the in-process job runner', () => {
  it('retries a failing job with backoff up to its attempts, stops at a permanent error, and runs periodic jobs', async () => {
    const seen: { name: string, attempt: number, last: boolean }[] = []
    const flaky = jobs.defineJob<{ failUntil: number }>('test.flaky', async ({ failUntil }, { attempt, lastAttempt }) => {
      seen.push({ name: 'flaky', attempt, last: lastAttempt })
      if (attempt < failUntil) throw new Error('not yet')
    }, { attempts: 4, backoff: { type: 'exponential', delay: 5 } })
    const doomed = jobs.defineJob('test.doomed', async (_data, { attempt }) => {
      seen.push({ name: 'doomed', attempt, last: false })
      throw new jobs.PermanentJobError('never')
    }, { attempts: 5, backoff: { type: 'fixed', delay: 5 } })
    let ticks = 0
    const periodic = jobs.defineJob('test.periodic', async () => {
      ticks++
    }, { every: 10 })

    await flaky.enqueue({ failUntil: 3 })
    await flaky.enqueue({ failUntil: 99 }, { jobId: 'never-succeeds' })
    // A job with the same id that is still waiting is not added twice.
    await flaky.enqueue({ failUntil: 99 }, { jobId: 'never-succeeds' })
    await doomed.enqueue({})
    await jobs.startJobs([flaky, doomed, periodic])
    await expect.poll(() => seen.filter(s => s.name === 'flaky').length, { timeout: 5000 }).toBe(3 + 4)
    await expect.poll(() => ticks, { timeout: 5000 }).toBeGreaterThanOrEqual(2)
    await jobs.stopJobs()

    const flakyRuns = seen.filter(s => s.name === 'flaky')
    expect(flakyRuns.map(s => s.attempt).sort()).toEqual([1, 1, 2, 2, 3, 3, 4])
    expect(flakyRuns.filter(s => s.last).map(s => s.attempt)).toEqual([4])
    expect(seen.filter(s => s.name === 'doomed')).toHaveLength(1)
    expect(jobs.retryDelay({ backoff: { type: 'exponential', delay: 1000 } }, 3)).toBe(4000)
    expect(jobs.retryDelay({ backoff: { type: 'fixed', delay: 1000 } }, 3)).toBe(1000)
  })
})
