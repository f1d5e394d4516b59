// `npm run backup [-- --output <file.tar>]`: one archive with everything a Helpdesk needs to come
// back: the database (pg_dump, custom format), every attachment's bytes (from the S3 store or the
// local disk, wherever the installation keeps them) and manifest.json (versions, row counts,
// sizes and SHA-256 checksums). `npm run restore` puts it back (scripts/restore.mjs).
//
// Settings, as the app reads them: BACKUP_DATABASE_URL (else DATABASE_MIGRATION_URL, else
// DATABASE_URL) must be a role that row-level security does not bind (superuser or BYPASSRLS),
// or the dump would silently miss rows; STORAGE_BACKEND / S3_* / DATA_DIR as for the app, and
// SETTINGS_ENCRYPTION_KEY when the store was configured in Admin → Storage. Runbook: docs/operations.md.
import { spawn } from 'node:child_process'
import { createHash, createDecipheriv, hkdfSync } from 'node:crypto'
import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import postgres from 'postgres'

export const archiveFormat = 'helpdesk-backup/1'

/** Runs a program; resolves with its stdout, rejects with its stderr. */
export function run(command, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
    let out = ''
    let err = ''
    child.stdout.on('data', d => (out += d))
    child.stderr.on('data', d => (err += d))
    child.once('error', error => reject(new Error(`${command}: ${error.message}${error.code === 'ENOENT' ? ' (install PostgreSQL\'s client: apt-get install postgresql-client)' : ''}`)))
    child.once('close', code => (code === 0 ? resolvePromise(out) : reject(new Error(`${command} failed (${code}): ${err.trim()}`))))
  })
}

/**
 * libpq reads the password from PGPASSWORD, so it never shows in the process list; the rest of
 * the URL (host, port, user, database, sslmode…) is passed as the connection string.
 */
export function libpq(url) {
  const parsed = new URL(url)
  const password = decodeURIComponent(parsed.password)
  parsed.password = ''
  return { dbname: parsed.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } }
}

/** The database role a backup or restore uses (see the header). */
export function ownerUrl() {
  const url = process.env.BACKUP_DATABASE_URL || process.env.DATABASE_MIGRATION_URL || process.env.DATABASE_URL
  if (!url) throw new Error('set DATABASE_MIGRATION_URL (the owner role) or BACKUP_DATABASE_URL')
  return url
}

export async function sha256File(path) {
  const hash = createHash('sha256')
  await pipeline(createReadStream(path), hash)
  return hash.digest('hex')
}

/** Counts bytes and hashes them on the way through. */
function measuring() {
  const hash = createHash('sha256')
  const meter = new Transform({
    transform(chunk, _encoding, done) {
      hash.update(chunk)
      meter.bytes += chunk.length
      done(null, chunk)
    },
  })
  meter.bytes = 0
  meter.digest = () => hash.digest('hex')
  return meter
}

/** SETTINGS_ENCRYPTION_KEY's AES-256-GCM, as server/utils/settings-key.ts stores secrets (`v1.<iv>.<tag>.<body>`). */
function decryptSetting(stored, master) {
  const [version, iv, tag, body] = stored.split('.')
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown secret format in the storage settings')
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(master, 'utf8'), 'helpdesk', 'settings-secrets', 32))
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
}

/**
 * Where attachments live, decided as the app decides it (server/services/storage-settings.ts):
 * the environment wins field by field over what an admin saved in Admin → Storage.
 */
export async function storageSettings(sql, env = process.env) {
  const [row] = await sql`select value from settings where key = 'storage'`
  const stored = row?.value ?? {}
  const pick = (variable, field) => (env[variable] ? env[variable] : stored[field])
  const backend = env.STORAGE_BACKEND || (env.S3_BUCKET ? 's3' : stored.backend) || 'local'
  if (backend === 'local') return { backend, root: resolve(env.DATA_DIR || '.data', 'uploads') }
  let secretAccessKey = env.S3_SECRET_ACCESS_KEY
  if (!secretAccessKey && stored.secretAccessKeyEncrypted) {
    if (!env.SETTINGS_ENCRYPTION_KEY) throw new Error('the S3 secret was saved in Admin → Storage: set SETTINGS_ENCRYPTION_KEY to read it')
    secretAccessKey = decryptSetting(stored.secretAccessKeyEncrypted, env.SETTINGS_ENCRYPTION_KEY)
  }
  const forcePathStyle = env.S3_FORCE_PATH_STYLE ? ['true', '1', 'yes'].includes(env.S3_FORCE_PATH_STYLE) : !!stored.forcePathStyle
  return {
    backend,
    endpoint: pick('S3_ENDPOINT', 'endpoint') || undefined,
    region: pick('S3_REGION', 'region') || 'us-east-1',
    bucket: pick('S3_BUCKET', 'bucket'),
    accessKeyId: pick('S3_ACCESS_KEY_ID', 'accessKeyId') || undefined,
    secretAccessKey: secretAccessKey || undefined,
    forcePathStyle,
  }
}

/** Reading and writing objects by key, the same for both backends. */
export function openStore(settings) {
  if (settings.backend === 'local') {
    const pathOf = (key) => {
      const path = resolve(settings.root, key)
      if (!path.startsWith(settings.root + sep)) throw new Error(`object key outside the uploads folder: ${key}`)
      return path
    }
    return {
      describe: `local disk ${settings.root}`,
      async read(key) {
        return { body: createReadStream(pathOf(key)) }
      },
      async write(key, path) {
        await mkdir(dirname(pathOf(key)), { recursive: true })
        await pipeline(createReadStream(path), createWriteStream(pathOf(key)))
      },
    }
  }
  if (!settings.bucket) throw new Error('S3 storage without a bucket: set S3_BUCKET')
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.accessKeyId && settings.secretAccessKey ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  })
  return {
    describe: `S3 bucket ${settings.bucket}${settings.endpoint ? ` at ${settings.endpoint}` : ''}`,
    async read(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }))
      return { body: object.Body, contentType: object.ContentType, contentDisposition: object.ContentDisposition }
    },
    async write(key, path, meta) {
      const { size } = await stat(path)
      await client.send(new PutObjectCommand({
        Bucket: settings.bucket,
        Key: key,
        Body: createReadStream(path),
        ContentLength: size,
        ContentType: meta.contentType,
        ContentDisposition: meta.contentDisposition,
      }))
    },
  }
}

/** Rows per table of the public schema: the manifest records them, a restore checks them. */
export async function tableCounts(sql) {
  const tables = await sql`select tablename from pg_tables where schemaname = 'public' order by tablename`
  const counts = {}
  for (const { tablename } of tables) {
    const [{ count }] = await sql`select count(*)::int as count from ${sql('public')}.${sql(tablename)}`
    counts[tablename] = count
  }
  return counts
}

/** Row-level security would hide rows from pg_dump (it then fails, or dumps nothing with --enable-row-security). */
export async function requireUnboundRole(sql) {
  const [role] = await sql`select current_user as name, rolsuper or rolbypassrls as bypass from pg_roles where rolname = current_user`
  if (!role?.bypass) {
    throw new Error(`the role "${role?.name}" is bound by row-level security, so it cannot see every row: use a superuser or a role with BYPASSRLS (BACKUP_DATABASE_URL; e.g. as a superuser: ALTER ROLE ${role?.name} BYPASSRLS)`)
  }
}

function appVersion() {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
  }
  catch {
    return 'unknown'
  }
}

export async function backup({ output, log = console.log }) {
  const url = ownerUrl()
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} })
  const work = await mkdtemp(join(tmpdir(), 'helpdesk-backup-'))
  try {
    await requireUnboundRole(sql)
    const [{ server }] = await sql`select current_setting('server_version') as server`
    const [migrations] = await sql`select count(*)::int as count, max(created_at)::text as last from drizzle.__drizzle_migrations`
    const settings = await storageSettings(sql)
    const store = openStore(settings)
    const { dbname, env } = libpq(url)
    const dump = join(work, 'database.dump')
    const pgDump = (await run('pg_dump', ['--version'])).trim()

    // One snapshot for the dump, the row counts and the list of files to copy, so every file the
    // dump refers to is copied, however busy the installation is meanwhile.
    log(`backup: dumping the database (PostgreSQL ${server})`)
    const { counts, attachments } = await sql.begin('isolation level repeatable read read only', async (tx) => {
      const [{ snapshot }] = await tx`select pg_export_snapshot() as snapshot`
      // Uploads still pending are not part of the installation yet.
      const listed = await tx`select key, size, content_type from attachments where state = 'ready' order by created_at, id`
      const counted = await tableCounts(tx)
      await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${snapshot}`, `--file=${dump}`, `--dbname=${dbname}`], { env })
      return { counts: counted, attachments: listed }
    })

    log(`backup: copying ${attachments.length} attachment(s) from ${store.describe}`)
    const objects = []
    const missing = []
    for (const attachment of attachments) {
      const target = join(work, 'attachments', attachment.key)
      await mkdir(dirname(target), { recursive: true })
      let object
      try {
        object = await store.read(attachment.key)
      }
      catch (error) {
        // Deleted since the snapshot (or lost before it): recorded, so a restore can say so.
        if (error.code === 'ENOENT' || error.name === 'NoSuchKey' || error.$metadata?.httpStatusCode === 404) {
          missing.push(attachment.key)
          continue
        }
        throw error
      }
      const meter = measuring()
      await pipeline(object.body, meter, createWriteStream(target))
      if (meter.bytes !== Number(attachment.size)) throw new Error(`attachment ${attachment.key} has ${meter.bytes} bytes in the store, ${attachment.size} in the database`)
      objects.push({ key: attachment.key, size: meter.bytes, sha256: meter.digest(), contentType: object.contentType ?? attachment.content_type, contentDisposition: object.contentDisposition ?? null })
    }
    if (missing.length) log(`backup: warning: ${missing.length} attachment(s) were not in the store: ${missing.join(', ')}`)

    const manifest = {
      format: archiveFormat,
      createdAt: new Date().toISOString(),
      app: { name: 'helpdesk', version: appVersion() },
      database: {
        file: 'database.dump',
        format: 'pg_dump custom',
        server: `PostgreSQL ${server}`,
        pgDump,
        migrations: { count: migrations.count, last: migrations.last },
        bytes: (await stat(dump)).size,
        sha256: await sha256File(dump),
        counts,
      },
      attachments: {
        source: settings.backend,
        count: objects.length,
        bytes: objects.reduce((sum, o) => sum + o.size, 0),
        objects,
        missing,
      },
    }
    await writeFile(join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)

    const archive = resolve(output)
    await mkdir(dirname(archive), { recursive: true })
    const entries = ['manifest.json', 'database.dump', ...(objects.length ? ['attachments'] : [])]
    await run('tar', ['--create', `--file=${archive}`, `--directory=${work}`, ...entries])
    log(`backup: ${archive}: ${counts.tickets ?? 0} tickets, ${counts.comments ?? 0} comments, ${objects.length} attachment(s) (${manifest.attachments.bytes} bytes)`)
    return { archive, manifest }
  }
  finally {
    await sql.end({ timeout: 5 })
    await rm(work, { recursive: true, force: true })
  }
}

/** `--name value` from the command line. */
export function option(argv, name) {
  const at = argv.indexOf(name)
  return at === -1 ? undefined : argv[at + 1]
}

export async function readManifest(dir) {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
  if (manifest.format !== archiveFormat) throw new Error(`not a Helpdesk backup (format ${manifest.format ?? 'unknown'}, expected ${archiveFormat})`)
  return manifest
}

/** Removes all but the newest `keep` archives named like ours in `dir` (their names sort by time). */
export async function prune(dir, keep, log = console.log) {
  const archives = (await readdir(dir)).filter(f => /^helpdesk-backup-.*\.tar$/.test(f)).sort()
  for (const old of archives.slice(0, Math.max(0, archives.length - keep))) {
    await rm(join(dir, old))
    log(`backup: removed ${old} (keeping the newest ${keep})`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2)
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const dir = process.env.BACKUP_DIR || '.'
  const output = option(argv, '--output') ?? join(dir, `helpdesk-backup-${stamp}.tar`)
  const keep = Number(option(argv, '--keep') ?? process.env.BACKUP_KEEP ?? 0)
  backup({ output }).then(() => (keep > 0 ? prune(dirname(resolve(output)), keep) : undefined)).then(() => process.exit(0), (error) => {
    console.error(`backup failed: ${error.message}`)
    process.exit(1)
  })
}
