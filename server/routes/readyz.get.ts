import { sql } from 'drizzle-orm'
import { useDb } from '../db/client'
import { dependencyUp } from '../utils/metrics'
import { redisCheck } from '../utils/redis'

type Check = 'ok' | 'skipped' | 'error'

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([work, new Promise<never>((_, reject) => globalThis.setTimeout(() => reject(new Error('timed out')), ms))])
}

/** Readiness: 503 naming the failing dependency, answered within a few seconds even when one hangs. */
export default defineEventHandler(async (event) => {
  const db: Check = await withTimeout(useDb().then(d => d.execute(sql`select 1`)), 3000).then(() => 'ok' as const, () => 'error' as const)
  const redis: Check = await withTimeout(redisCheck(), 3000).catch(() => 'error' as const)
  // Object storage joins these checks when it is configured (the attachments issue).
  const checks: Record<'db' | 'redis' | 'storage', Check> = { db, redis, storage: 'skipped' }
  for (const [check, result] of Object.entries(checks)) {
    if (result !== 'skipped') dependencyUp.set({ check }, result === 'ok' ? 1 : 0)
  }
  const ready = Object.values(checks).every(c => c !== 'error')
  setResponseStatus(event, ready ? 200 : 503)
  return { status: ready ? 'ready' : 'unavailable', checks }
})
