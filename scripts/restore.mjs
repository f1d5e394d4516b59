// `npm run restore -- <backup.tar> [--replace]`: puts a backup made by `npm run backup` back into
// an installation: checks every checksum in the manifest first, restores the database with
// pg_restore (into an empty database, or over the existing one with --replace), checks the row
// counts, then writes the attachments into the store the restored installation uses (S3 or
// local disk; decided as the app decides it, environment first). Stop the app (and the worker)
// before a restore and start them afterwards: their start-up applies any newer migrations.
//
// Settings as for scripts/backup.mjs; DATABASE_URL's role (the app's) gets its data rights again.
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'
import { libpq, openStore, ownerUrl, readManifest, requireUnboundRole, run, sha256File, storageSettings, tableCounts } from './backup.mjs'

/** What a download sends when the source store kept no disposition (local disk): the original name, RFC 6266. */
function contentDisposition(filename) {
  const ascii = filename.normalize('NFKD').replace(/[\u0300-\u036F]/g, '').replace(/[^\x20-\x7E]/g, '_').replace(/["\\%;]/g, '_')
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

async function verify(dir, manifest) {
  const files = [{ path: manifest.database.file, sha256: manifest.database.sha256, size: manifest.database.bytes },
    ...manifest.attachments.objects.map(o => ({ path: join('attachments', o.key), sha256: o.sha256, size: o.size }))]
  for (const file of files) {
    const path = join(dir, file.path)
    const info = await stat(path).catch(() => null)
    if (!info) throw new Error(`the archive lacks ${file.path}`)
    if (info.size !== file.size || await sha256File(path) !== file.sha256) throw new Error(`${file.path} does not match its checksum in the manifest: the archive is damaged`)
  }
}

export async function restore({ archive, replace = false, log = console.log }) {
  const url = ownerUrl()
  const work = await mkdtemp(join(tmpdir(), 'helpdesk-restore-'))
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} })
  try {
    await run('tar', ['--extract', `--file=${resolve(archive)}`, `--directory=${work}`, '--no-same-owner'])
    const manifest = await readManifest(work)
    await verify(work, manifest)
    log(`restore: ${archive} from ${manifest.createdAt} (Helpdesk ${manifest.app.version}, ${manifest.database.server}): checksums match`)

    await requireUnboundRole(sql)
    const [{ tables }] = await sql`select count(*)::int as tables from pg_tables where schemaname = 'public'`
    if (tables > 0 && !replace) throw new Error('the target database is not empty: restore into a new database, or pass --replace to drop what is there')

    const { dbname, env } = libpq(url)
    const args = ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${dbname}`]
    // --clean drops what the archive is about to create; one transaction leaves nothing half-done.
    if (replace) args.push('--clean', '--if-exists')
    await run('pg_restore', [...args, '--single-transaction', join(work, manifest.database.file)], { env })
    const counts = await tableCounts(sql)
    for (const [table, count] of Object.entries(manifest.database.counts)) {
      if (counts[table] !== count) throw new Error(`after the restore ${table} has ${counts[table]} rows, the backup ${count}`)
    }

    const appUrl = process.env.DATABASE_URL
    if (appUrl && appUrl !== url) {
      const app = sql(decodeURIComponent(new URL(appUrl).username))
      await sql`grant usage on schema public to ${app}`
      await sql`grant select, insert, update, delete on all tables in schema public to ${app}`
      await sql`grant usage, select on all sequences in schema public to ${app}`
    }

    // The restored settings decide the store, unless the environment overrides them (like the app).
    const store = openStore(await storageSettings(sql))
    const names = new Map((await sql`select key, filename from attachments`).map(r => [r.key, r.filename]))
    log(`restore: writing ${manifest.attachments.count} attachment(s) to ${store.describe}`)
    for (const object of manifest.attachments.objects) {
      await store.write(object.key, join(work, 'attachments', object.key), {
        contentType: object.contentType,
        contentDisposition: object.contentDisposition ?? contentDisposition(names.get(object.key) ?? 'attachment'),
      })
    }
    if (manifest.attachments.missing?.length) log(`restore: warning: ${manifest.attachments.missing.length} attachment(s) were already missing when the backup was made`)
    log(`restore: done: ${counts.tickets ?? 0} tickets, ${counts.comments ?? 0} comments, ${manifest.attachments.count} attachment(s); start the app`)
    return { manifest, counts }
  }
  finally {
    await sql.end({ timeout: 5 })
    await rm(work, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2)
  const archive = argv.find(a => !a.startsWith('--'))
  if (!archive) {
    console.error('usage: npm run restore -- <backup.tar> [--replace]')
    process.exit(2)
  }
  restore({ archive, replace: argv.includes('--replace') }).then(() => process.exit(0), (error) => {
    console.error(`restore failed: ${error.message}`)
    process.exit(1)
  })
}
