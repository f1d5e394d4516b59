/**
 * The release's migration step (`npm run migrate`, the init container of every pod and the
 * compose `migrate` service) against real PostgreSQL: several copies at once apply the
 * migrations once, under one advisory lock, and leave the app's role its data rights.
 */
import { spawn } from 'node:child_process'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../fixtures/app'
// @ts-expect-error a plain ES module script without types
import { migrationLockKey } from '../../scripts/migrate.mjs'

function migrate(env: Record<string, string>): Promise<{ code: number, output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/migrate.mjs'], { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', d => (output += d))
    child.stderr.on('data', d => (output += d))
    child.once('close', code => resolve({ code: code ?? 1, output }))
  })
}

describe('npm run migrate', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let env: Record<string, string>

  beforeAll(async () => {
    database = await createTestDatabase()
    env = { DATABASE_URL: database.url, DATABASE_MIGRATION_URL: database.migrationUrl }
  })
  afterAll(() => database?.drop())

  it('applies the migrations once when three pods start together, and grants the app role its rights', async () => {
    const runs = await Promise.all([migrate(env), migrate(env), migrate(env)])
    expect(runs.map(r => r.code)).toEqual([0, 0, 0])
    const applied = runs.filter(r => /applied \d+ migration\(s\)/.test(r.output))
    expect(applied).toHaveLength(1)
    expect(runs.filter(r => /up to date \(\d+ migrations\)/.test(r.output))).toHaveLength(2)

    const app = postgres(database.url, { max: 1 })
    try {
      // The app's role reads through row-level security: no context, no ticket, but no error either.
      expect(await app`select count(*)::int as n from tickets`).toEqual([{ n: 0 }])
    }
    finally {
      await app.end()
    }
    expect((await migrate(env)).output).toMatch(/up to date/)
  })

  it('waits while another migration holds the lock, and gives up with a clear message', async () => {
    const other = postgres(database.migrationUrl, { max: 1 })
    try {
      await other`select pg_advisory_lock(${migrationLockKey}::bigint)`
      const blocked = await migrate({ ...env, MIGRATION_LOCK_TIMEOUT: '2' })
      expect(blocked.output).toMatch(/another migration is running; waiting for it/)
      expect(blocked.output).toMatch(/another migration held the lock for more than 2s/)
      expect(blocked.code).toBe(1)
    }
    finally {
      await other.end()
    }
  })
})
