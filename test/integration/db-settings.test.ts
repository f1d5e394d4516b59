import { sql as drizzleSql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { guarded, sessionSettings } from '../../server/db/client'
import { readTicketList, ticketListQuerySchema } from '../../server/services/ticket-list'
import { principalContext } from '../../server/services/visibility'
import type { Principal } from '../../server/utils/principal'
import { adminDatabaseUrl, startApp } from '../fixtures/app'
import { signedInAdmin, userClient } from '../fixtures/client'

// The app's connections must reach PostgreSQL with their settings: a setting that silently stays
// at the server's default made every capped count of the queue four times slower (bench/tickets.mjs).
const sql = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {}, connection: sessionSettings(5000) })
afterAll(() => sql.end())

it('runs the app’s statements without parallel workers or JIT, and with the database timeout', async () => {
  const [row] = await sql`select current_setting('max_parallel_workers_per_gather') as workers, current_setting('jit') as jit,
    current_setting('statement_timeout') as timeout, current_setting('idle_in_transaction_session_timeout') as idle`
  expect(row).toEqual({ workers: '0', jit: 'off', timeout: '5s', idle: '10s' })
})

describe('statements', () => {
  // With DATABASE_PREPARE on (the default), a statement is planned once per connection: planning
  // was half of a list page's time in the database at a million tickets (bench/tickets.mjs). One
  // without parameters too (an admin's list page names nobody): postgres.js sends those as
  // simple queries, planned every time.
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

  it('are prepared once per connection, with parameters or none, in and outside transactions, unless DATABASE_PREPARE is off', async () => {
    expect(await named(true)).toEqual(['select $1::int + 0 as one', 'select $1::int + 1 as two', 'select 1 as three'])
    expect(await named(false)).toEqual([])
  })
})

describe('a list page', () => {
  // Its statement's plan is made once per connection and used for every principal, page and
  // cursor (planning it took 1.4 of an agent's 4 ms in the database at a million tickets,
  // bench/tickets.mjs); its limits are in the statement, so that plan knows how many rows it wants.
  it('is read with the plan made without its parameters, and answers as over HTTP', async () => {
    const app = await startApp()
    const client = postgres(app.databaseEnv.DATABASE_URL, { max: 1, onnotice: () => {}, connection: sessionSettings(5000) })
    const owner = postgres(app.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
    try {
      const admin = await signedInAdmin(app.url)
      const agent = await userClient(admin, 'agent', { orgs: ['acme'] })
      const requester = await userClient(admin, 'requester', { orgs: ['acme'] })
      for (let i = 0; i < 4; i++) expect((await requester.post('/api/tickets', { title: `Plan ${i}`, body: 'A ticket.' })).status).toBe(201)
      const me = (await agent.get('/api/me')).body as { id: string, email: string, name: string, roles: string[], orgs: string[] }
      const orgIds = (await owner`select id from orgs where slug in ${owner(me.orgs)} order by slug`).map(r => r.id as string)
      const principal: Principal = { userId: me.id, subject: null, email: me.email, name: me.name, roles: me.roles, orgs: me.orgs, orgIds, scopes: [], via: 'local' }
      const db = drizzle(guarded(client, 5000, true))
      const page = (params: Record<string, string>) => db.transaction(async (tx) => {
        await tx.execute(principalContext(principal))
        return readTicketList(tx as never, principal, ticketListQuerySchema(100).parse(params))
      })
      const first = await page({ limit: '2' })
      const second = await page({ limit: '2', cursor: first.meta.nextCursor! })
      await page({ limit: '2' })
      const overHttp = async (query: string) => ((await agent.get(`/api/tickets?${query}`)).body as { data: { id: string }[] }).data.map(t => t.id)
      expect(first.data.map(t => t.id)).toEqual(await overHttp('limit=2'))
      expect(second.data.map(t => t.id)).toEqual(await overHttp(`limit=2&cursor=${first.meta.nextCursor}`))
      expect(first.meta.total).toBe(4)
      const plans = await client.unsafe(`select generic_plans, custom_plans, statement from pg_prepared_statements where statement like '%as total) c%'`)
      // The first page and the cursor's are two statements; the first one ran twice.
      expect(plans.map(p => [Number(p.generic_plans), Number(p.custom_plans)]).sort()).toEqual([[1, 0], [2, 0]])
      expect(plans.every(p => /limit 3\) p on true/.test(p.statement as string))).toBe(true)
    }
    finally {
      await client.end()
      await owner.end()
      await app.stop()
    }
  })
})
