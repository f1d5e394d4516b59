import { sql } from 'drizzle-orm'
import { useDb } from '../db/client'
import { useStorage } from '../services/storage-settings'
import { useConfig } from '../utils/config'
import { withDeadline } from '../utils/dependencies'
import { dependencyUp } from '../utils/metrics'
import { redisCheck } from '../utils/redis'
import { isDraining } from '../utils/shutdown'

type Check = 'ok' | 'skipped' | 'error'

// Probes give up after a few seconds; a check never takes longer than its dependency's timeout.
const PROBE_MS = 3000

const outcome = (work: Promise<unknown>, ms: number): Promise<Check> =>
  withDeadline(work, Math.min(ms, PROBE_MS), 'database').then(result => (result === 'skipped' ? 'skipped' : 'ok'), () => 'error')

/**
 * Readiness: 503 naming the failing dependency, answered within a few seconds even when one
 * hangs; 503 as soon as the process is shutting down, so traffic moves away before it stops.
 */
export default defineEventHandler(async (event) => {
  const config = useConfig()
  const [db, redis, storage] = await Promise.all([
    outcome(useDb().then(d => d.execute(sql`select 1`)), config.DB_TIMEOUT_MS),
    outcome(redisCheck(), config.REDIS_TIMEOUT_MS),
    outcome(useStorage().then(s => s.ping()), config.OBJECTSTORE_TIMEOUT_MS),
  ])
  const checks: Record<'db' | 'redis' | 'storage', Check> = { db, redis, storage }
  for (const [check, result] of Object.entries(checks)) {
    if (result !== 'skipped') dependencyUp.set({ check }, result === 'ok' ? 1 : 0)
  }
  const draining = isDraining()
  const ready = !draining && Object.values(checks).every(c => c !== 'error')
  setResponseStatus(event, ready ? 200 : 503)
  return { status: ready ? 'ready' : draining ? 'shutting down' : 'unavailable', checks }
})
