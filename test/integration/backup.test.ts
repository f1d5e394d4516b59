/**
 * Backups as an operator uses them: `npm run backup` against a running installation (the built
 * server, real PostgreSQL with its two roles, attachments in the S3 emulator or on local disk),
 * `npm run restore` into a new, empty database and store, then the app booted on those: it serves
 * the same tickets, comments (internal notes included) and attachment bytes.
 */
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { adminDatabaseUrl, createTestDatabase, startApp } from '../fixtures/app'
import type { Client } from '../fixtures/client'
import { signedInAdmin, userClient } from '../fixtures/client'
import type { RunningS3 } from '../fixtures/s3'
import { startS3 } from '../fixtures/s3'

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

/** Runs one of the npm scripts' files as `npm run …` does (same Node), with only the given environment. */
function script(file: string, args: string[], env: Record<string, string>): Promise<{ code: number, output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', d => (output += d))
    child.stderr.on('data', d => (output += d))
    child.once('close', code => resolve({ code: code ?? 1, output }))
  })
}

function listTar(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['--list', `--file=${file}`])
    let out = ''
    child.stdout.on('data', d => (out += d))
    child.once('close', code => (code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`tar exited ${code}`))))
  })
}

async function download(who: Client, ticketId: string, attId: string): Promise<{ bytes: Buffer, disposition: string | null }> {
  const first = await who.fetch(`/api/tickets/${ticketId}/attachments/${attId}`)
  const final = first.status === 302 ? await fetch(first.headers.get('location')!) : first
  expect(final.status).toBe(200)
  return { bytes: Buffer.from(await final.arrayBuffer()), disposition: final.headers.get('content-disposition') }
}

/** What a user of the installation sees: tickets, their threads and their files (bytes hashed). */
async function whatUsersSee(app: RunningApp, agentEmail: string) {
  const admin = await signedInAdmin(app.url)
  const tickets = (await admin.get('/api/tickets?limit=100')).body.data as { id: string, number: number, title: string, status: string }[]
  const threads = []
  for (const ticket of tickets.sort((a, b) => a.number - b.number)) {
    const comments = (await admin.get(`/api/tickets/${ticket.id}/comments`)).body.data as { body: string, internal: boolean }[]
    const files = (await admin.get(`/api/tickets/${ticket.id}/attachments`)).body.data as { id: string, filename: string, size: number }[]
    const bytes = []
    for (const file of files) {
      const { bytes: content, disposition } = await download(admin, ticket.id, file.id)
      bytes.push({ filename: file.filename, size: file.size, sha256: sha(content), disposition })
    }
    threads.push({ number: ticket.number, title: ticket.title, status: ticket.status, comments: comments.map(c => ({ body: c.body, internal: c.internal })), files: bytes })
  }
  // People keep their accounts: the agent signs in with the same password.
  const agentSignIn = await admin.request('POST', '/api/auth/login', { email: agentEmail, password: 'a-long-test-password' })
  return { threads, agentSignsIn: agentSignIn.status === 200 }
}

describe.each(['s3', 'local'] as const)('backup and restore (%s storage)', (backend) => {
  let work: string
  let source: RunningApp
  let sourceS3: RunningS3 | undefined
  let targetS3: RunningS3 | undefined
  let target: RunningApp | undefined
  let targetDb: Awaited<ReturnType<typeof createTestDatabase>> | undefined
  let sourceStopped = false
  let agentEmail: string
  let before: Awaited<ReturnType<typeof whatUsersSee>>
  let counts: { tickets: number, comments: number, attachments: number }
  const picture = randomBytes(300 * 1024)
  const notes = Buffer.from('Steps to reproduce: 1. open the tray 2. 🔥\n')

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'helpdesk-backup-test-'))
    sourceS3 = backend === 's3' ? await startS3('helpdesk-source') : undefined
    source = await startApp({ ...sourceS3?.env })
    const admin = await signedInAdmin(source.url)
    const alice = await userClient(admin, 'requester', { orgs: ['acme'], name: 'Alice Requester' })
    const agent = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Agnes Agent' })
    agentEmail = agent.user.email

    for (const title of ['Printer on fire', 'VPN drops every hour', 'Invoice #42 is wrong']) {
      const ticket = (await alice.post('/api/tickets', { title, body: `${title}: details inside.` })).body
      await agent.post(`/api/tickets/${ticket.id}/comments`, { body: `Looking into "${title}".` })
      await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Internal: customer is on the old plan.', internal: true })
    }
    const first = (await alice.get('/api/tickets')).body.data.find((t: { title: string }) => t.title === 'Printer on fire')
    const form = new FormData()
    form.append('file', new Blob([picture], { type: 'image/png' }), 'tray photo é.png')
    expect((await alice.fetch(`/api/tickets/${first.id}/attachments`, { method: 'POST', body: form })).status).toBe(201)
    const reply = (await alice.post(`/api/tickets/${first.id}/comments`, { body: 'Here are my notes.' })).body
    const second = new FormData()
    second.append('commentId', reply.id)
    second.append('file', new Blob([notes], { type: 'text/plain' }), 'notes.txt')
    expect((await alice.fetch(`/api/tickets/${first.id}/attachments`, { method: 'POST', body: second })).status).toBe(201)

    before = await whatUsersSee(source, agentEmail)
    // What the database holds, seen by its owner (row-level security does not hide rows from it).
    const owner = postgres(source.databaseEnv.DATABASE_MIGRATION_URL, { max: 1, onnotice: () => {} })
    const [row] = await owner`select (select count(*)::int from tickets) as tickets, (select count(*)::int from comments) as comments, (select count(*)::int from attachments) as attachments`
    counts = row as typeof counts
    await owner.end()
    targetDb = await createTestDatabase()
    targetS3 = backend === 's3' ? await startS3('helpdesk-restored') : undefined
  })

  afterAll(async () => {
    await target?.stop()
    if (!sourceStopped) await source?.stop()
    await sourceS3?.stop()
    await targetS3?.stop()
    await targetDb?.drop()
    await rm(work, { recursive: true, force: true })
  })

  const sourceEnv = () => ({
    DATABASE_MIGRATION_URL: source.databaseEnv.DATABASE_MIGRATION_URL,
    DATABASE_URL: source.databaseEnv.DATABASE_URL,
    DATA_DIR: source.dataDir,
    ...sourceS3?.env,
  })

  it('backs up the running installation into one archive with a manifest of versions, counts and checksums', async () => {
    const archive = join(work, 'helpdesk.tar')
    const result = await script('scripts/backup.mjs', ['--output', archive], sourceEnv())
    expect(counts).toMatchObject({ tickets: 3, attachments: 2 })
    expect(result.output).toContain(`helpdesk.tar: 3 tickets, ${counts.comments} comments, 2 attachment(s)`)
    expect(result.code).toBe(0)

    const entries = await listTar(archive)
    expect(entries).toContain('manifest.json')
    expect(entries).toContain('database.dump')
    expect(entries.filter(e => e.startsWith('attachments/') && /[0-9a-f-]{36}$/.test(e))).toHaveLength(2)

    await spawnTar(['--extract', `--file=${archive}`, `--directory=${work}`, 'manifest.json'])
    const manifest = JSON.parse(await readFile(join(work, 'manifest.json'), 'utf8'))
    expect(manifest.format).toBe('helpdesk-backup/1')
    expect(manifest.app.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(manifest.database.server).toMatch(/^PostgreSQL \d+/)
    expect(manifest.database.pgDump).toMatch(/pg_dump \(PostgreSQL\) \d+/)
    expect(manifest.database.migrations.count).toBeGreaterThan(0)
    expect(manifest.database.counts).toMatchObject(counts)
    expect(manifest.database.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(manifest.attachments).toMatchObject({ source: backend, count: 2, bytes: picture.length + notes.length })
    expect(manifest.attachments.objects.map((o: { sha256: string }) => o.sha256).sort()).toEqual([sha(picture), sha(notes)].sort())
  })

  it('names nightly archives by time and keeps only the newest BACKUP_KEEP of them', async () => {
    const dir = join(work, 'nightly')
    for (let night = 0; night < 3; night++) {
      const result = await script('scripts/backup.mjs', [], { ...sourceEnv(), BACKUP_DIR: dir, BACKUP_KEEP: '2' })
      expect(result.code, result.output).toBe(0)
    }
    const kept = (await readdir(dir)).sort()
    expect(kept).toHaveLength(2)
    for (const name of kept) expect(name).toMatch(/^helpdesk-backup-\d{4}-\d{2}-\d{2}T[\d-]+Z\.tar$/)
  })

  it('backs up with a read-only role that bypasses row-level security, and refuses a role bound by it', async () => {
    const bound = await script('scripts/backup.mjs', ['--output', join(work, 'bound.tar')], { ...sourceEnv(), DATABASE_MIGRATION_URL: '' })
    expect(bound.code).toBe(1)
    expect(bound.output).toMatch(/is bound by row-level security, so it cannot see every row: use a superuser or a role with BYPASSRLS/)

    // What docs/operations.md recommends for scheduled backups.
    const role = `backup_${randomBytes(4).toString('hex')}`
    const admin = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create role ${role} login bypassrls in role pg_read_all_data`)
    try {
      const url = new URL(source.databaseEnv.DATABASE_MIGRATION_URL)
      url.username = role
      const result = await script('scripts/backup.mjs', ['--output', join(work, 'reader.tar')], { ...sourceEnv(), BACKUP_DATABASE_URL: url.toString() })
      expect(result.output).toContain(`3 tickets, ${counts.comments} comments, 2 attachment(s)`)
      expect(result.code).toBe(0)
    }
    finally {
      await admin.unsafe(`drop role ${role}`)
      await admin.end()
    }
  })

  it('refuses a damaged archive and a database that is not empty, touching nothing', async () => {
    const archive = join(work, 'helpdesk.tar')
    const damaged = join(work, 'damaged.tar')
    const bytes = await readFile(archive)
    // Flip bytes inside the last stored attachment (tar keeps content in 512-byte blocks after its header).
    const at = bytes.lastIndexOf(Buffer.from('attachments/tickets/')) + 512
    bytes[at] = bytes[at]! ^ 0xFF
    await writeFile(damaged, bytes)
    const refused = await script('scripts/restore.mjs', [damaged], { DATABASE_MIGRATION_URL: targetDb!.migrationUrl, DATABASE_URL: targetDb!.url, DATA_DIR: join(work, 'unused') })
    expect(refused.code).toBe(1)
    expect(refused.output).toMatch(/does not match its checksum in the manifest: the archive is damaged/)

    const notEmpty = await script('scripts/restore.mjs', [archive], { DATABASE_MIGRATION_URL: source.databaseEnv.DATABASE_MIGRATION_URL, DATA_DIR: join(work, 'unused') })
    expect(notEmpty.code).toBe(1)
    expect(notEmpty.output).toMatch(/the target database is not empty/)
  })

  it('restores into a fresh database and store, and the app serves the same tickets, comments and files', async () => {
    const restoredData = join(work, 'restored-data')
    const result = await script('scripts/restore.mjs', [join(work, 'helpdesk.tar')], {
      DATABASE_MIGRATION_URL: targetDb!.migrationUrl,
      DATABASE_URL: targetDb!.url,
      DATA_DIR: restoredData,
      ...targetS3?.env,
    })
    expect(result.output).toMatch(/checksums match/)
    expect(result.output).toContain(`restore: done: 3 tickets, ${counts.comments} comments, 2 attachment(s)`)
    expect(result.code).toBe(0)

    // The original installation is gone: its database dropped, its files deleted.
    await source.stop()
    sourceStopped = true
    await sourceS3?.stop()
    sourceS3 = undefined
    target = await startApp({ DATABASE_URL: targetDb!.url, DATABASE_MIGRATION_URL: targetDb!.migrationUrl, DATA_DIR: restoredData, ...targetS3?.env })
    const after = await whatUsersSee(target, agentEmail)
    expect(after).toEqual(before)
    expect(after.agentSignsIn).toBe(true)
    expect(after.threads).toHaveLength(3)
    expect(after.threads[0]!.files.map(f => f.sha256).sort()).toEqual([sha(picture), sha(notes)].sort())
    expect(after.threads[0]!.comments.some(c => c.internal)).toBe(true)
    if (targetS3) expect(await targetS3.holds('tickets/')).toBe(true)
  })
})

function spawnTar(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    spawn('tar', args, { stdio: 'ignore' }).once('close', code => (code === 0 ? resolve() : reject(new Error(`tar exited ${code}`))))
  })
}
