import Redis from 'ioredis'
import { useConfig } from './config'

let client: Redis | null | undefined

/** The shared Redis connection when REDIS_URL is set, else null (single-process defaults). */
export function useRedis(): Redis | null {
  if (client !== undefined) return client
  const { REDIS_URL } = useConfig()
  // Commands fail fast while Redis is away instead of queueing without bound.
  client = REDIS_URL ? new Redis(REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false }) : null
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
