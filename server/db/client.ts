import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import * as schema from './schema'
import { useConfig } from '../utils/config'
import { DependencyUnavailable, isDatabaseOutage, withDeadline } from '../utils/dependencies'
import { dbInFlight, dbPoolMax } from '../utils/metrics'

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>

interface Connection {
  db: Database
  close: () => Promise<void>
  /** The app's role when it is a superuser or BYPASSRLS role, which row-level security cannot bind. */
  bypassesRowSecurity?: string
}

let connecting: Promise<Connection> | undefined

/** The migrations ship next to the built server; in development they are read from the source tree. */
function migrationsFolder(): string {
  const candidates = [
    process.env.MIGRATIONS_DIR,
    process.argv[1] && join(dirname(process.argv[1]), 'db/migrations'),
    resolve('server/db/migrations'),
  ].filter((c): c is string => !!c)
  const found = candidates.find(c => existsSync(join(c, 'meta/_journal.json')))
  if (!found) throw new Error(`database migrations not found (looked in ${candidates.join(', ')}); set MIGRATIONS_DIR`)
  return found
}

/**
 * Every statement and transaction of the app goes through here, so that
 * - what is in flight is counted (postgres.js does not report its pool): statements (`unsafe`,
 *   which drizzle uses) and whole transactions (`begin`);
 * - nothing waits longer than DB_TIMEOUT_MS for an answer — PostgreSQL's statement_timeout
 *   cannot help when the server or the network stops answering; a late statement is cancelled,
 *   and a transaction past its deadline refuses further statements, so it rolls back rather
 *   than committing after the caller was told it failed;
 * - an unreachable or overloaded database surfaces as DependencyUnavailable (answered 503);
 * - statements are named prepared statements when `prepare` is on (drizzle asks for unnamed
 *   ones, and postgres.js sends those without parameters as simple queries): PostgreSQL then
 *   plans a statement's text once per connection instead of on every request (an admin's list
 *   names nobody, and was planned on every request). Planning was 2.7 of a list page's 5 ms in
 *   the database at a million tickets (its policies and a dozen indexes on `tickets`); with
 *   parameters PostgreSQL keeps planning anew while a generic plan would cost more than the ones
 *   made for the values (its plan cache's rule).
 */
export function guarded<T extends object>(client: T, timeoutMs: number, prepare: boolean): T {
  const outage = (error: unknown) => {
    throw isDatabaseOutage(error) && !(error instanceof DependencyUnavailable) ? new DependencyUnavailable('database', { cause: error }) : error
  }
  const bounded = <R>(work: PromiseLike<R>, cancel?: () => unknown): Promise<R> => {
    dbInFlight.inc()
    return withDeadline(Promise.resolve(work), timeoutMs, 'database', () => Promise.resolve(cancel?.()).catch(() => {}))
      .catch(outage)
      .finally(() => dbInFlight.dec())
  }
  // Queries run when first awaited (postgres.js queries are lazy thenables): bound them from there.
  const lazy = <R>(query: PromiseLike<R> & { cancel?: () => unknown }) => {
    const then = query.then.bind(query)
    Object.defineProperty(query, 'then', {
      configurable: true,
      value: (ok?: (v: R) => unknown, fail?: (e: unknown) => unknown) =>
        bounded({ then: then as PromiseLike<R>['then'] }, () => query.cancel?.()).then(ok, fail),
    })
    return query
  }
  // postgres.js's unsafe(text, parameters, options); without parameters it is a simple query.
  // A prepared statement's parameters are serialized by the types PostgreSQL describes, and
  // drizzle hands timestamps to postgres.js as strings (it replaces their serializers), so a Date
  // in a raw sql`` template is given as its ISO string (unprepared, postgres.js guessed its type).
  const prepared = (args: unknown[]) => Array.isArray(args[1]) && args[1].length
    ? [args[0], args[1].map(v => (v instanceof Date ? v.toISOString() : v)), { ...(args[2] as object | undefined), prepare }]
    : prepare ? [args[0], [], { ...(args[2] as object | undefined), prepare, simple: false }] : args
  const refusingAfter = <S extends object>(sql: S, deadline: number): S => new Proxy(sql, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (key !== 'unsafe' || typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (Date.now() > deadline) throw new DependencyUnavailable('database', { cause: new Error('the transaction ran past DB_TIMEOUT_MS') })
        return value.apply(target, prepared(args))
      }
    },
  })
  return new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      if (key === 'unsafe') return (...args: unknown[]) => lazy(value.apply(target, prepared(args)))
      if (key !== 'begin') return value
      return (...args: unknown[]) => {
        const deadline = Date.now() + timeoutMs
        const work = args.map(a => typeof a === 'function' ? (sql: object) => a(refusingAfter(sql, deadline)) : a)
        return bounded(value.apply(target, work))
      }
    },
  })
}

// Any fixed number: the key of the session-level advisory lock migrations run under.
const MIGRATION_LOCK = 4_771_203_915

/**
 * Migrates on a connection of its own, under a PostgreSQL advisory lock: replicas starting
 * together on an empty database take turns, and the later ones find nothing left to do.
 * With a separate owner role, the app's role gets its data rights here too (concurrent GRANTs
 * on the same objects would fail with "tuple concurrently updated").
 */
async function migrateUnderLock(url: string, folder: string, options: Record<string, unknown>, appRole?: string): Promise<void> {
  const { default: postgres } = await import('postgres')
  const { drizzle } = await import('drizzle-orm/postgres-js')
  const { migrate } = await import('drizzle-orm/postgres-js/migrator')
  const owner = postgres(url, { ...options, max: 1 })
  try {
    await owner.unsafe(`select pg_advisory_lock(${MIGRATION_LOCK})`)
    await migrate(drizzle(owner), { migrationsFolder: folder })
    if (appRole) {
      const app = owner(appRole)
      await owner`grant usage on schema public to ${app}`
      await owner`grant select, insert, update, delete on all tables in schema public to ${app}`
      await owner`grant usage, select on all sequences in schema public to ${app}`
    }
  }
  finally {
    // Ending the session releases the lock.
    await owner.end({ timeout: 5 })
  }
}

/**
 * Settings of every app connection. The server stops what runs too long itself, and drops a
 * transaction its client abandoned. No JIT and no parallel workers for the app's short
 * statements: at a million tickets the queue's capped count looks costly to the planner
 * (row-level security hides its selectivity), and compiling it (~60 ms) or starting workers
 * took longer than running it (bench/tickets.mjs, docs/search.md). All values are strings:
 * postgres.js leaves out start-up parameters whose value is falsy, so a number 0 never reached
 * the server (the capped counts ran with two workers, 4× slower).
 */
export function sessionSettings(timeoutMs: number): Record<string, string> {
  return {
    statement_timeout: String(timeoutMs),
    idle_in_transaction_session_timeout: String(2 * timeoutMs),
    jit: 'off',
    max_parallel_workers_per_gather: '0',
  }
}

/**
 * How long postgres.js waits before connecting again after a failed attempt, in seconds. Its
 * own backoff grows with every failure of any connection of the pool (3^n / 100 s, up to 20 s),
 * so after an outage of a few seconds the first attempt once the database was back could come
 * later than DB_TIMEOUT_MS, and a request answered 503 although the database answered again
 * (test/e2e/faults.test.ts). Here it grows from 50 ms to a fifth of DB_TIMEOUT_MS, at most 1 s.
 */
export function reconnectBackoff(timeoutMs: number): (retries: number) => number {
  const longest = Math.min(1, timeoutMs / 5 / 1000)
  return retries => Math.min(longest, 0.05 * 2 ** Math.max(0, retries - 1))
}

async function connect(): Promise<Connection> {
  const config = useConfig()
  const folder = migrationsFolder()
  if (config.DATABASE_URL) {
    const { default: postgres } = await import('postgres')
    const { drizzle } = await import('drizzle-orm/postgres-js')
    const options = { connect_timeout: Math.max(1, Math.ceil(config.DB_TIMEOUT_MS / 1000)), onnotice: () => {} }
    // Two roles: the owner migrates and grants; the app's role is bound by row-level security.
    await migrateUnderLock(config.DATABASE_MIGRATION_URL ?? config.DATABASE_URL, folder, options,
      config.DATABASE_MIGRATION_URL && decodeURIComponent(new URL(config.DATABASE_URL).username))
    const client = postgres(config.DATABASE_URL, {
      ...options,
      max: config.DATABASE_POOL_SIZE,
      prepare: config.DATABASE_PREPARE,
      backoff: reconnectBackoff(config.DB_TIMEOUT_MS),
      connection: sessionSettings(config.DB_TIMEOUT_MS),
    })
    dbPoolMax.set(config.DATABASE_POOL_SIZE)
    const db = drizzle(guarded(client, config.DB_TIMEOUT_MS, config.DATABASE_PREPARE), { schema })
    const [role] = await client<{ name: string, bypass: boolean }[]>`select current_user as name, rolsuper or rolbypassrls as bypass from pg_roles where rolname = current_user`
    return { db, close: () => client.end({ timeout: 5 }), bypassesRowSecurity: role?.bypass ? role.name : undefined }
  }
  // Zero-install default: an embedded PostgreSQL in the data directory.
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  const { migrate } = await import('drizzle-orm/pglite/migrator')
  const dir = join(config.DATA_DIR, 'db')
  await mkdir(dir, { recursive: true })
  const client = await PGlite.create(dir)
  const db = drizzle(client, { schema })
  await migrate(db, { migrationsFolder: folder })
  // The embedded database runs as its superuser: row-level security is not enforced there.
  return { db, close: () => client.close(), bypassesRowSecurity: 'embedded' }
}

/** The database, once connected and migrated. Requests wait for start-up instead of failing. */
export async function useDb(): Promise<Database> {
  connecting ??= connect()
  return (await connecting).db
}

/** Which role, if any, row-level security does not bind (for the start-up check). */
export async function rowSecurityBypass(): Promise<string | undefined> {
  connecting ??= connect()
  return (await connecting).bypassesRowSecurity
}

export async function closeDb(): Promise<void> {
  if (!connecting) return
  const pending = connecting
  connecting = undefined
  await (await pending).close()
}
