import postgres from 'postgres'
import { drizzle } from 'drizzle-orm/postgres-js'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestDatabase } from '../fixtures/app'
import { serializeError } from '../../server/utils/logger'

let database: Awaited<ReturnType<typeof createTestDatabase>>
let client: postgres.Sql
beforeAll(async () => {
  database = await createTestDatabase()
  client = postgres(database.migrationUrl, { max: 1, onnotice: () => {} })
})
afterAll(async () => {
  await client?.end()
  await database?.drop()
})

it('logs a database error by its code and message, never the statement\'s parameters', async () => {
  const db = drizzle(client)
  const secret = 'scrypt$32768$8$1$a-password-hash-and-note-text'
  const error = await db.execute(sql`select ${secret}::int`).catch((e: unknown) => e)
  // What the app's error hook receives: the query error wrapped by h3.
  const wrapped = Object.assign(new Error('wrapped', { cause: error }), { statusCode: 500 })
  for (const logged of [serializeError(error), serializeError(wrapped)]) {
    expect(logged).toEqual({ type: 'DatabaseError', code: '22P02', message: expect.stringContaining('invalid input syntax for type integer') })
    expect(JSON.stringify(logged)).not.toContain('a-password-hash')
  }
})
