import { sql as drizzleSql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { guarded, sessionSettings } from '../../server/db/client'
import { adminDatabaseUrl } from '../fixtures/app'

// The app's connections must reach PostgreSQL with their settings: a setting that silently stays
// at the server's default made every capped count of the queue four times slower (bench/tickets.mjs).
const sql = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {}, connection: sessionSettings(5000) })
afterAll(() => sql.end())

it('runs the app’s statements without parallel workers or JIT, and with the database timeout', async () => {
  const [row] = await sql`select current_setting('max_parallel_workers_per_gather') as workers, current_setting('jit') as jit,
    current_setting('statement_timeout') as timeout, current_setting('idle_in_transaction_session_timeout') as idle`
  expect(row).toEqual({ workers: '0', jit: 'off', timeout: '5s', idle: '10s' })
})

describe('statements with parameters', () => {
  // With DATABASE_PREPARE on (the default), a statement is planned once per connection: planning
  // was half of a list page's time in the database at a million tickets (bench/tickets.mjs).
  const named = async (prepare: boolean) => {
    const client = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {}, prepare })
    try {
      const db = drizzle(guarded(client, 5000, prepare))
      await db.execute(drizzleSql`select ${1}::int + 0 as one`)
      await db.execute(drizzleSql`select ${2}::int + 0 as one`)
      await db.transaction(tx => tx.execute(drizzleSql`select ${3}::int + 1 as two`))
      await db.execute(drizzleSql.raw('select 1 as three'))
      // A Date in a raw template (drizzle leaves timestamps to postgres.js as strings).
      const [recent] = await db.execute<{ recent: boolean }>(drizzleSql`select ${new Date()} > now() - interval '1 minute' as recent`)
      expect(recent).toEqual({ recent: true })
      const rows = await client.unsafe(`select statement from pg_prepared_statements where statement like '%as one' or statement like '%as two' or statement like '%as three' order by statement`)
      return rows.map(r => r.statement)
    }
    finally {
      await client.end()
    }
  }

  it('are prepared once per connection, in and outside transactions, unless DATABASE_PREPARE is off', async () => {
    expect(await named(true)).toEqual(['select $1::int + 0 as one', 'select $1::int + 1 as two'])
    expect(await named(false)).toEqual([])
  })
})
