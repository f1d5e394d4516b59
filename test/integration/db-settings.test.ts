import postgres from 'postgres'
import { afterAll, expect, it } from 'vitest'
import { sessionSettings } from '../../server/db/client'
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
