// `npm run migrate` (in the image: `node scripts/migrate.mjs`): applies the migrations that ship
// with the build, once per release, before the new app version serves. Several copies may start at
// once (an init container per pod): a PostgreSQL advisory lock lets one migrate while the others
// wait, then find nothing left to do. Runs as the owner role (DATABASE_MIGRATION_URL, else
// DATABASE_URL) and grants the app's role its data rights, like the app's own start-up does.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'

// The same key as the app's own start-up migration (MIGRATION_LOCK in server/db/client.ts), so the two never overlap.
export const migrationLockKey = 4_771_203_915

function migrationsFolder() {
  const candidates = [process.env.MIGRATIONS_DIR, resolve('.output/server/db/migrations'), resolve('server/db/migrations')].filter(Boolean)
  const found = candidates.find(c => existsSync(join(c, 'meta/_journal.json')))
  if (!found) throw new Error(`database migrations not found (looked in ${candidates.join(', ')}); set MIGRATIONS_DIR`)
  return found
}

async function applied(sql) {
  const [row] = await sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`
  if (!row.present) return 0
  const [{ count }] = await sql`select count(*)::int as count from drizzle.__drizzle_migrations`
  return count
}

export async function runMigrations({ ownerUrl, appUrl, lockTimeoutSeconds = 300, log = console.log }) {
  const folder = migrationsFolder()
  // One connection: the advisory lock belongs to the session that runs the migrations.
  const sql = postgres(ownerUrl, { max: 1, connect_timeout: 10, onnotice: () => {} })
  try {
    const deadline = Date.now() + lockTimeoutSeconds * 1000
    for (let waited = false; ; waited = true) {
      const [{ locked }] = await sql`select pg_try_advisory_lock(${migrationLockKey}::bigint) as locked`
      if (locked) break
      if (Date.now() > deadline) throw new Error(`another migration held the lock for more than ${lockTimeoutSeconds}s`)
      if (!waited) log('migrate: another migration is running; waiting for it')
      await new Promise(r => setTimeout(r, 1000))
    }
    const before = await applied(sql)
    await migrate(drizzle(sql), { migrationsFolder: folder })
    const after = await applied(sql)
    if (appUrl && appUrl !== ownerUrl) {
      const app = sql(decodeURIComponent(new URL(appUrl).username))
      await sql`grant usage on schema public to ${app}`
      await sql`grant select, insert, update, delete on all tables in schema public to ${app}`
      await sql`grant usage, select on all sequences in schema public to ${app}`
    }
    await sql`select pg_advisory_unlock(${migrationLockKey}::bigint)`
    log(after > before ? `migrate: applied ${after - before} migration(s); ${after} in total` : `migrate: up to date (${after} migrations)`)
    return { applied: after - before, total: after }
  }
  finally {
    await sql.end({ timeout: 5 })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const appUrl = process.env.DATABASE_URL
  const ownerUrl = process.env.DATABASE_MIGRATION_URL || appUrl
  if (!ownerUrl) {
    console.error('migrate: set DATABASE_MIGRATION_URL (the owner role) and DATABASE_URL (the app role)')
    process.exit(1)
  }
  runMigrations({ ownerUrl, appUrl, lockTimeoutSeconds: Number(process.env.MIGRATION_LOCK_TIMEOUT || 300) })
    .then(() => process.exit(0), (error) => {
      console.error(`migrate: ${error.message}`)
      process.exit(1)
    })
}
