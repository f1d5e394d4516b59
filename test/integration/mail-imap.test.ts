import { randomBytes } from 'node:crypto'
import Redis from 'ioredis'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp } from '../fixtures/app'
import type { RunningApp } from '../fixtures/app'
import { startMailbox } from '../fixtures/dovecot'
import type { RunningMailbox } from '../fixtures/dovecot'
import { mailFixture } from '../fixtures/mail'

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const mailEnv = { MAIL_FROM: 'Helpdesk <helpdesk@help.example.test>' }

const titles = async (db: postgres.Sql) => (await db<{ title: string }[]>`select title from tickets order by number`).map(t => t.title)
const stored = async (db: postgres.Sql, messageId: string) => Number((await db`select count(*)::int as n from inbound_messages where message_id = ${messageId}`)[0]!.n)
const newTicket = (title: string, messageId = `${crypto.randomUUID()}@mail.customer.example`) =>
  ({ raw: mailFixture('new-ticket', { FROM: 'imap.user@customer.example', TITLE: title, MESSAGE_ID: messageId }), messageId })

describe('the IMAP mailbox (Debian dovecot)', () => {
  let mailbox: RunningMailbox
  let app: RunningApp
  let owner: postgres.Sql

  beforeAll(async () => {
    mailbox = await startMailbox()
  })
  afterAll(async () => {
    await owner?.end()
    await app?.stop()
    await mailbox?.stop()
  })

  it('takes waiting and new mail (IDLE) into tickets and marks it seen; a restart loses nothing and a message read twice stays one ticket', async () => {
    const first = newTicket('Waiting before start')
    await mailbox.deliver(first.raw)
    await mailbox.deliver(mailFixture('iso-2022-jp', { FROM: 'yamada@customer.example' }))
    app = await startApp({ ...mailEnv, ...mailbox.env })
    owner = postgres(app.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
    await expect.poll(() => titles(owner), { timeout: 20_000 }).toEqual(['Waiting before start', 'プリンター故障'])

    await mailbox.deliver(newTicket('Arrived while reading').raw)
    await expect.poll(() => titles(owner), { timeout: 20_000 }).toContain('Arrived while reading')
    await expect.poll(async () => (await mailbox.messages()).every(m => m.seen), { timeout: 20_000 }).toBe(true)

    // The reader goes away; mail keeps arriving, and one message lost its \Seen flag as if the
    // reader had stopped between storing it and marking it.
    await app.kill()
    await mailbox.deliver(newTicket('Arrived while down').raw)
    const uid = (await mailbox.messages()).find(m => m.messageId === first.messageId)!.uid
    await mailbox.markUnseen(uid)

    const again = await startApp({ ...mailEnv, ...mailbox.env, ...app.databaseEnv, DATA_DIR: app.dataDir })
    try {
      await expect.poll(() => titles(owner), { timeout: 20_000 }).toContain('Arrived while down')
      await expect.poll(async () => (await mailbox.messages()).every(m => m.seen), { timeout: 20_000 }).toBe(true)
      expect(await titles(owner)).toEqual(['Waiting before start', 'プリンター故障', 'Arrived while reading', 'Arrived while down'])
      expect(await stored(owner, first.messageId)).toBe(1)
    }
    finally {
      await again.kill()
    }
  }, 120_000)
})

describe('one reader at a time (a lock in Redis)', () => {
  let mailbox: RunningMailbox
  const apps: RunningApp[] = []
  let owner: postgres.Sql
  const prefix = `helpdesk-imap-test-${randomBytes(4).toString('hex')}`
  const redis = new Redis(redisUrl, { lazyConnect: true })

  beforeAll(async () => {
    mailbox = await startMailbox()
  })
  afterAll(async () => {
    await owner?.end()
    for (const app of apps.reverse()) await app.stop()
    await mailbox?.stop()
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    await redis.quit()
  })

  it('two processes watch one mailbox: every message is stored once and yields one ticket', async () => {
    const env = { ...mailEnv, ...mailbox.env, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, JOBS_IN_PROCESS: 'true' }
    apps.push(await startApp(env))
    apps.push(await startApp({ ...env, ...apps[0]!.databaseEnv }))
    owner = postgres(apps[0]!.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
    const messages = Array.from({ length: 5 }, (_, i) => newTicket(`Shared mailbox ${i + 1}`))
    for (const m of messages) await mailbox.deliver(m.raw)
    await expect.poll(async () => (await titles(owner)).length, { timeout: 30_000 }).toBe(5)
    expect((await titles(owner)).sort()).toEqual(messages.map((_, i) => `Shared mailbox ${i + 1}`))
    for (const m of messages) expect(await stored(owner, m.messageId)).toBe(1)
    expect(await redis.keys(`${prefix}:mail:imap-lock:*`)).toHaveLength(1)
  }, 120_000)
})
