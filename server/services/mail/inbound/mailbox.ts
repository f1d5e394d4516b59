import { randomUUID } from 'node:crypto'
import { ImapFlow } from 'imapflow'
import type { Config } from '#server/utils/config'
import { useConfig } from '#server/utils/config'
import { useLogger } from '#server/utils/logger'
import { useRedis } from '#server/utils/redis'
import { receiveInboundMessage } from './jobs'
import { messageIds } from './parse'
import { storedMessageIds } from './store'

const lockSeconds = 60
// Releases or extends the lock only while this reader still holds it.
const releaseScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`
const extendScript = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`

/**
 * One reader at a time per mailbox, across every process: a lock in Redis that the holder keeps
 * extending. Without Redis there is one process, and this one reads.
 */
function mailboxLock(config: Config) {
  const redis = useRedis()
  const key = `${config.REDIS_KEY_PREFIX}:mail:imap-lock:${config.IMAP_USER}@${config.IMAP_HOST}/${config.IMAP_MAILBOX}`
  const holder = randomUUID()
  return {
    acquire: async () => !redis || (await redis.set(key, holder, 'EX', lockSeconds, 'NX')) === 'OK',
    extend: async () => !redis || (await redis.eval(extendScript, 1, key, holder, String(lockSeconds * 1000))) === 1,
    release: async () => { await redis?.eval(releaseScript, 1, key, holder) },
  }
}

/**
 * Takes every unseen message: stores it raw (unless a copy with its Message-ID is stored
 * already, e.g. before a crash), and only then marks it seen, so nothing is lost in between.
 */
async function drain(client: ImapFlow): Promise<number> {
  const uids = await client.search({ seen: false }, { uid: true })
  let taken = 0
  for (const uid of uids || []) {
    const message = await client.fetchOne(String(uid), { source: true, envelope: true }, { uid: true })
    if (!message || !message.source) continue
    const messageId = messageIds(message.envelope?.messageId)[0]
    const stored = messageId ? await storedMessageIds([messageId]) : new Set<string>()
    if (!messageId || !stored.has(messageId)) await receiveInboundMessage(message.source, 'imap').catch((error: Error & { statusCode?: number }) => {
      // A message the relay endpoint would refuse (not RFC 822) is marked seen and left in the mailbox.
      if (error.statusCode !== 400) throw error
      useLogger().warn({ uid }, 'a message in the mailbox is not an RFC 822 message; left there, marked seen')
    })
    await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true })
    taken++
  }
  return taken
}

export interface MailboxReader {
  stop: () => Promise<void>
  /** Resolves once the reader has connected and taken what was waiting (for tests and start-up logs). */
  ready: Promise<void>
}

/**
 * Reads IMAP_MAILBOX continuously: IDLE for push (new mail is taken at once), a look every
 * 20 seconds as a safety net (which also extends the lock), and reconnects with exponential backoff (1 s up to 1 min) after any
 * failure. Returns null without IMAP_HOST.
 */
export function startMailboxReader(config = useConfig()): MailboxReader | null {
  if (!config.IMAP_HOST) return null
  const log = useLogger().child({ mailbox: `${config.IMAP_USER}@${config.IMAP_HOST}/${config.IMAP_MAILBOX}` })
  const lock = mailboxLock(config)
  let stopped = false
  let client: ImapFlow | null = null
  let wake: (() => void) | null = null
  let markReady: () => void = () => {}
  const ready = new Promise<void>(res => (markReady = res))
  const sleep = (ms: number) => new Promise<void>((res) => {
    const timer = setTimeout(res, ms)
    timer.unref()
    wake = () => {
      clearTimeout(timer)
      res()
    }
  })

  async function session(): Promise<void> {
    client = new ImapFlow({
      host: config.IMAP_HOST!,
      port: config.IMAP_PORT,
      secure: config.IMAP_TLS,
      // Without implicit TLS the only clear-text case is loopback (the config refuses others in production).
      doSTARTTLS: config.IMAP_TLS ? undefined : false,
      auth: { user: config.IMAP_USER!, pass: config.IMAP_PASS! },
      logger: false,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 5 * 60_000,
    })
    const closed = new Promise<void>(res => client!.once('close', () => res()))
    client.on('error', (error: Error) => log.warn({ err: error }, 'mailbox connection error'))
    await client.connect()
    const mailbox = await client.getMailboxLock(config.IMAP_MAILBOX)
    let pending = Promise.resolve()
    const take = () => (pending = pending.then(async () => {
      const taken = await drain(client!)
      if (taken) log.info({ taken }, 'mail taken from the mailbox')
    }))
    try {
      await take()
      markReady()
      log.info('reading the mailbox (IDLE)')
      client.on('exists', () => take().catch((error: Error) => log.warn({ err: error }, 'taking new mail failed')))
      while (!stopped && client.usable) {
        const lost = await Promise.race([closed.then(() => true), sleep(20_000).then(() => false)])
        if (lost || stopped) break
        if (!(await lock.extend())) throw new Error('the mailbox lock was lost')
        await take()
      }
    }
    finally {
      mailbox.release()
      await client.logout().catch(() => client?.close())
    }
  }

  async function run() {
    let backoff = 1000
    while (!stopped) {
      try {
        if (await lock.acquire()) {
          await session()
          backoff = 1000
        }
        else {
          // Another process reads this mailbox; look again in a while.
          await sleep(lockSeconds * 500)
          continue
        }
      }
      catch (error) {
        if (stopped) break
        log.warn({ err: error, retryInMs: backoff }, `mailbox unavailable: ${(error as Error).message}`)
      }
      await lock.release().catch(() => {})
      if (!stopped) await sleep(backoff)
      backoff = Math.min(backoff * 2, 60_000)
    }
  }
  const running = run()

  return {
    ready,
    async stop() {
      stopped = true
      wake?.()
      client?.close()
      await running
      await lock.release().catch(() => {})
    },
  }
}
