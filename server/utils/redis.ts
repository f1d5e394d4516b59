import Redis from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'
import type { IRateLimiterOptions } from 'rate-limiter-flexible'
import type { Driver } from 'unstorage'
import redisDriver from 'unstorage/drivers/redis'
import { useConfig } from './config'
import { DependencyUnavailable } from './dependencies'
import { useLogger } from './logger'
import { rateLimitLocalFallbacks } from './metrics'

let client: Redis | null | undefined

/**
 * Every Redis connection of the app: a command that gets no answer within REDIS_TIMEOUT_MS
 * fails (also while it waits for a reconnect), and a connection attempt gives up after as long.
 */
export function redisOptions(): RedisOptions {
  const { REDIS_TIMEOUT_MS } = useConfig()
  return {
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: times => Math.min(times * 100, 2000),
  }
}

/** The shared Redis connection when REDIS_URL is set, else null (single-process defaults). */
export function useRedis(): Redis | null {
  if (client !== undefined) return client
  const { REDIS_URL } = useConfig()
  client = REDIS_URL ? new Redis(REDIS_URL, { ...redisOptions(), lazyConnect: false }) : null
  client?.on('error', () => { /* reconnects on its own; readiness and callers report the failure */ })
  return client
}

/** For /readyz: 'ok', 'skipped' without REDIS_URL, or a rejection. */
export async function redisCheck(): Promise<'ok' | 'skipped'> {
  const redis = useRedis()
  if (!redis) return 'skipped'
  await redis.ping()
  return 'ok'
}

export async function closeRedis(): Promise<void> {
  const current = client
  client = undefined
  await current?.quit().catch(() => current.disconnect())
}

/** unstorage's Redis driver with the timeouts above; its failures are Redis outages (503), never "no session". */
export function redisStorageDriver(options: { url: string, base: string, ttl: number }): Driver {
  const driver = redisDriver({ ...redisOptions(), ...options })
  const outage = (error: unknown): never => {
    throw new DependencyUnavailable('redis', { cause: error })
  }
  return new Proxy(driver, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function' || key === 'getInstance') return value
      return (...args: unknown[]) => {
        try {
          const result = value.apply(target, args)
          return result instanceof Promise ? result.catch(outage) : result
        }
        catch (error) {
          return outage(error)
        }
      }
    },
  })
}

const WARN_EVERY_MS = 60_000
let lastWarning = 0

/** What a process counts on its own while Redis is away: says so in the log (once a minute) and in a metric. */
class LocalFallback extends RateLimiterMemory {
  constructor(private readonly route: string, options: IRateLimiterOptions) {
    super(options)
  }

  override consume(...args: Parameters<RateLimiterMemory['consume']>) {
    rateLimitLocalFallbacks.inc({ route: this.route })
    if (Date.now() - lastWarning > WARN_EVERY_MS) {
      lastWarning = Date.now()
      useLogger().warn({ route: this.route }, 'Redis is unreachable: rate limits are counted per process until it returns')
    }
    return super.consume(...args)
  }
}

/**
 * A rate limiter shared by every replica through Redis. While Redis is away (not connected, or
 * not answering within REDIS_TIMEOUT_MS) each process counts alone instead of letting everything
 * through or refusing everyone.
 */
export function sharedRateLimiter(route: string, options: IRateLimiterOptions, redis: Redis): RateLimiterRedis {
  return new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new LocalFallback(route, options) })
}
