import { randomUUID } from 'node:crypto'
import { createError } from 'h3'
import type Redis from 'ioredis'
import type { Config } from '#server/utils/config'
import { useLogger } from '#server/utils/logger'
import { redisStorageDriver } from '#server/utils/redis'

/**
 * Server-side OIDC sessions live in the Nitro storage mount `oidc` that nuxt-oidc-auth uses:
 * Redis when REDIS_URL is set (shared by every replica, keys expire), memory otherwise.
 */
let redis: Redis | undefined
let keyPrefix = 'helpdesk'
// The renewal lock outlives the longest renewal (the token request and the signing keys, each up
// to OIDC_TIMEOUT_MS, then the database), so no second replica spends the refresh token meanwhile.
let lockMs = 15_000

/** Mounts Redis under `oidc` at run time (nitro.storage is fixed at build time). */
export function mountSessionStore(config: Config): void {
  keyPrefix = config.REDIS_KEY_PREFIX
  lockMs = Math.max(15_000, 2 * config.OIDC_TIMEOUT_MS + config.DB_TIMEOUT_MS)
  if (!config.REDIS_URL) return
  const driver = redisStorageDriver({ url: config.REDIS_URL, base: `${keyPrefix}:oidc`, ttl: config.SESSION_MAX_AGE })
  useStorage().mount('oidc', driver)
  redis = driver.getInstance!() as Redis
  redis.on('error', (error: Error) => useLogger().warn({ err: error }, `redis: ${error.message}`))
}

export function sessionStore() {
  return useStorage('oidc')
}

export async function closeSessionStore(): Promise<void> {
  await redis?.quit().catch(() => {})
}

const running = new Map<string, Promise<unknown>>()
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const release = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`

/**
 * Runs `work` for one session at a time, across requests of this process (they share one
 * run) and across replicas (a Redis lock; the others wait and then run `work` themselves,
 * which finds the session already renewed). Rotating refresh tokens can be used only once.
 */
export function singleFlight<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
  const inProcess = running.get(sessionId) as Promise<T> | undefined
  if (inProcess) return inProcess
  const run = (redis ? underRedisLock(redis, sessionId, work) : work())
    .finally(() => running.delete(sessionId))
  running.set(sessionId, run)
  return run
}

async function underRedisLock<T>(client: Redis, sessionId: string, work: () => Promise<T>): Promise<T> {
  const key = `${keyPrefix}:oidc-lock:${sessionId}`
  const token = randomUUID()
  const deadline = Date.now() + lockMs + 5000
  while (Date.now() < deadline) {
    if (await client.set(key, token, 'PX', lockMs, 'NX')) {
      try {
        return await work()
      }
      finally {
        await client.eval(release, 1, key, token)
      }
    }
    await sleep(25)
  }
  throw createError({ statusCode: 503, statusMessage: 'Service Unavailable', message: 'The session is busy. Try again in a moment.' })
}
