import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import * as schema from './schema'
import { useConfig } from '../utils/config'
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
 * postgres.js does not report its pool, so the client is wrapped to count what is in flight:
 * statements (`unsafe`, which drizzle uses) and whole transactions (`begin`).
 */
function countingInFlight<T extends object>(client: T): T {
  const settle = <R>(work: PromiseLike<R>) => {
    const then = work.then.bind(work)
    // Queries run when first awaited; counting starts there and ends with the result.
    Object.defineProperty(work, 'then', {
      configurable: true,
      value: (ok?: (v: R) => unknown, fail?: (e: unknown) => unknown) => {
        dbInFlight.inc()
        const settled = () => dbInFlight.dec()
        return then(
          (v) => {
            settled()
            return ok ? ok(v) : v
          },
          (e) => {
            settled()
            if (fail) return fail(e)
            throw e
          },
        )
      },
    })
    return work
  }
  return new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if ((key !== 'unsafe' && key !== 'begin') || typeof value !== 'function') return value
      return (...args: unknown[]) => settle(value.apply(target, args))
    },
  })
}

async function connect(): Promise<Connection> {
  const config = useConfig()
  const folder = migrationsFolder()
  if (config.DATABASE_URL) {
    const { default: postgres } = await import('postgres')
    const { drizzle } = await import('drizzle-orm/postgres-js')
    const { migrate } = await import('drizzle-orm/postgres-js/migrator')
    const options = { connect_timeout: 10, onnotice: () => {} }
    if (config.DATABASE_MIGRATION_URL) {
      // Two roles: the owner migrates and grants; the app's role is bound by row-level security.
      const owner = postgres(config.DATABASE_MIGRATION_URL, { ...options, max: 1 })
      try {
        await migrate(drizzle(owner), { migrationsFolder: folder })
        const app = owner(decodeURIComponent(new URL(config.DATABASE_URL).username))
        await owner`grant usage on schema public to ${app}`
        await owner`grant select, insert, update, delete on all tables in schema public to ${app}`
        await owner`grant usage, select on all sequences in schema public to ${app}`
      }
      finally {
        await owner.end({ timeout: 5 })
      }
    }
    const client = postgres(config.DATABASE_URL, { ...options, max: config.DATABASE_POOL_SIZE })
    dbPoolMax.set(config.DATABASE_POOL_SIZE)
    const db = drizzle(countingInFlight(client), { schema })
    if (!config.DATABASE_MIGRATION_URL) await migrate(db, { migrationsFolder: folder })
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
