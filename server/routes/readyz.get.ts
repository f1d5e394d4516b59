import { sql } from 'drizzle-orm'
import { useDb } from '../db/client'
import { useStorage } from '../services/storage-settings'
import { dependencyUp } from '../utils/metrics'
import { redisCheck } from '../utils/redis'

type Check = 'ok' | 'skipped' | 'error'

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([work, new Promise<never>((_, reject) => globalThis.setTimeout(() => reject(new Error('timed out')), ms))])
}

const outcome = (work: Promise<unknown>): Promise<Check> => withTimeout(work, 3000).then(() => 'ok' as const, () => 'error' as const)

/** Readiness: 503 naming the failing dependency, answered within a few seconds even when one hangs. */
export default defineEventHandler(async (event) => {
  const [db, redis, storage] = await Promise.all([
    outcome(useDb().then(d => d.execute(sql`select 1`))),
    withTimeout(redisCheck(), 3000).catch(() => 'error' as const),
    outcome(useStorage().then(s => s.ping())),
  ])
  const checks: Record<'db' | 'redis' | 'storage', Check> = { db, redis, storage }
  for (const [check, result] of Object.entries(checks)) {
    if (result !== 'skipped') dependencyUp.set({ check }, result === 'ok' ? 1 : 0)
  }
  const ready = Object.values(checks).every(c => c !== 'error')
  setResponseStatus(event, ready ? 200 : 503)
  return { status: ready ? 'ready' : 'unavailable', checks }
})
