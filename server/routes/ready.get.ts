import { sql } from 'drizzle-orm'
import { useDb } from '#server/db/client'
import { smtpCheck } from '#server/services/mail/transport'
import { redisCheck } from '#server/utils/redis'

type Check = 'ok' | 'skipped' | 'error'

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([work, new Promise<never>((_, reject) => globalThis.setTimeout(() => reject(new Error('timed out')), ms))])
}

const outcome = (work: Promise<'ok' | 'skipped' | unknown>): Promise<Check> =>
  withTimeout(work, 5000).then(r => (r === 'skipped' ? 'skipped' : 'ok'), () => 'error' as const)

/** The worker's readiness: the database, Redis and the SMTP relay when configured; 503 naming the failing one. */
export default defineEventHandler(async (event) => {
  const [db, redis, smtp] = await Promise.all([
    outcome(useDb().then(d => d.execute(sql`select 1`))),
    outcome(redisCheck()),
    outcome(smtpCheck()),
  ])
  const checks = { db, redis, smtp }
  const ready = Object.values(checks).every(c => c !== 'error')
  setResponseStatus(event, ready ? 200 : 503)
  return { status: ready ? 'ready' : 'unavailable', checks }
})
