import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { createTestDatabase, startApp } from '../fixtures/app'
import { signedInAdmin, userClient } from '../fixtures/client'

/**
 * Defence in depth: PostgreSQL itself refuses rows the caller may not see, so a query that
 * forgot the visibility condition still leaks nothing. These queries talk to the database as the
 * app's role, the way a careless handler would, with no WHERE clause at all.
 */
let app: RunningApp
let database: Awaited<ReturnType<typeof createTestDatabase>>
let sql: postgres.Sql
let alice: Awaited<ReturnType<typeof userClient>>
let bob: Awaited<ReturnType<typeof userClient>>

beforeAll(async () => {
  database = await createTestDatabase()
  app = await startApp({ DATABASE_URL: database.url, DATABASE_MIGRATION_URL: database.migrationUrl })
  const admin = await signedInAdmin(app.url)
  alice = await userClient(admin, 'requester', { orgs: ['acme'] })
  bob = await userClient(admin, 'requester', { orgs: ['globex'] })
  const ticket = (await alice.post('/api/tickets', { title: 'Alice private', body: 'x' })).body
  await admin.post(`/api/tickets/${ticket.id}/comments`, { body: 'staff-only note', internal: true })
  await admin.post(`/api/tickets/${ticket.id}/comments`, { body: 'public answer' })
  await bob.post('/api/tickets', { title: 'Bob private', body: 'y' })
  sql = postgres(database.url, { max: 1, onnotice: () => {} })
})
afterAll(async () => {
  await sql?.end()
  await app?.kill()
  await database?.drop()
})

async function asCaller(mode: string, userId: string, orgIds: string[], staff: boolean) {
  return sql.begin(async (tx) => {
    await tx`select set_config('app.mode', ${mode}, true), set_config('app.user_id', ${userId}, true), set_config('app.org_ids', ${orgIds.join(',')}, true), set_config('app.staff', ${staff ? 'on' : 'off'}, true)`
    const tickets = await tx<{ title: string }[]>`select title from tickets order by title`
    const comments = await tx<{ body: string }[]>`select body from comments order by body`
    return { tickets: tickets.map(t => t.title), comments: comments.map(c => c.body) }
  })
}

describe('row-level security', () => {
  it('shows nothing to a query that did not say who is asking', async () => {
    expect(await sql`select title from tickets`).toHaveLength(0)
    expect(await sql`select body from comments`).toHaveLength(0)
    expect(await sql`select id from ticket_events`).toHaveLength(0)
  })

  it('shows a requester only their own tickets and no internal notes, even without a WHERE clause', async () => {
    expect(await asCaller('own', alice.user.id, [], false)).toEqual({ tickets: ['Alice private'], comments: ['public answer'] })
    expect(await asCaller('own', bob.user.id, [], false)).toEqual({ tickets: ['Bob private'], comments: [] })
  })

  it('refuses to let a caller write a ticket in someone else’s name', async () => {
    await expect(sql.begin(async (tx) => {
      await tx`select set_config('app.mode', 'own', true), set_config('app.user_id', ${bob.user.id}, true)`
      await tx`insert into tickets (title, body, requester_id) values ('forged', 'z', ${alice.user.id})`
    })).rejects.toThrow(/row-level security/)
  })

  it('binds the app’s role, which is neither superuser nor owner of the tables', async () => {
    const [role] = await sql`select rolsuper, rolbypassrls from pg_roles where rolname = current_user`
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false })
    expect(app.output()).not.toMatch(/bypasses row-level security/)
  })
})
