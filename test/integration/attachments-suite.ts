import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import type { Client } from '../fixtures/client'
import { signedInAdmin, userClient } from '../fixtures/client'
import type { RunningS3 } from '../fixtures/s3'
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3 } from '../fixtures/s3'

type Actor = Awaited<ReturnType<typeof userClient>>
type Backend = 's3' | 'local'

const MiB = 1024 * 1024
const limits = { MAX_UPLOAD_BYTES: String(10 * MiB), MAX_ATTACHMENTS_PER_TICKET: '4', RATE_LIMIT_ATTACHMENTS: '20/1m' }

/** Where the bytes of an attachment end up, looked at from outside the app. */
class Store {
  constructor(readonly backend: Backend, readonly app: RunningApp, readonly s3?: RunningS3) {}

  async holds(fragment: string): Promise<boolean> {
    if (this.s3) return this.s3.holds(fragment)
    const entries = await readdir(join(this.app.dataDir, 'uploads'), { recursive: true, withFileTypes: true }).catch(() => [])
    return entries.some(e => e.isFile() && join(e.parentPath, e.name).includes(fragment))
  }

  /** Removes an attachment's bytes behind the app's back, as a careless operator or a partial restore might. */
  async lose(ticketId: string, attId: string) {
    const key = `tickets/${ticketId}/${attId}`
    if (!this.s3) return rm(join(this.app.dataDir, 'uploads', key))
    await this.client().send(new DeleteObjectCommand({ Bucket: this.s3.bucket, Key: key }))
  }

  private client() {
    return new S3Client({ endpoint: this.s3!.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY } })
  }

  /** Puts bytes straight into the store at the attachment's key, as a misbehaving client might. */
  async plant(ticketId: string, attId: string, bytes: Buffer) {
    const key = `tickets/${ticketId}/${attId}`
    if (!this.s3) {
      await mkdir(join(this.app.dataDir, 'uploads', 'tickets', ticketId), { recursive: true })
      return writeFile(join(this.app.dataDir, 'uploads', key), bytes)
    }
    await this.client().send(new PutObjectCommand({ Bucket: this.s3.bucket, Key: key, Body: bytes }))
  }
}

const sha = (b: Buffer | ArrayBuffer) => createHash('sha256').update(Buffer.from(b as ArrayBuffer)).digest('hex')

/** The browser's three steps: presign, PUT the bytes to the URL it got, complete. */
async function presign(who: Client, ticketId: string, file: { filename: string, contentType: string, size: number, commentId?: string }) {
  return who.post(`/api/tickets/${ticketId}/attachments/presign`, file)
}
function put(app: RunningApp, upload: { url: string, headers: Record<string, string> }, bytes: Buffer, headers: Record<string, string> = {}) {
  return fetch(new URL(upload.url, app.url), { method: 'PUT', body: bytes, headers: { ...upload.headers, ...headers } })
}
async function uploadThroughPresign(app: RunningApp, who: Client, ticketId: string, bytes: Buffer, file: { filename: string, contentType: string, commentId?: string }) {
  const signed = await presign(who, ticketId, { ...file, size: bytes.length })
  expect(signed.status, JSON.stringify(signed.body)).toBe(201)
  const stored = await put(app, signed.body.upload, bytes)
  expect(stored.status).toBe(200)
  const done = await who.post(`/api/tickets/${ticketId}/attachments/${signed.body.attachment.id}/complete`)
  expect(done.status, JSON.stringify(done.body)).toBe(200)
  return done.body
}
function directUpload(who: Client, ticketId: string, bytes: Buffer, filename: string, contentType: string, fields: Record<string, string> = {}) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  form.append('file', new Blob([bytes], { type: contentType }), filename)
  return who.fetch(`/api/tickets/${ticketId}/attachments`, { method: 'POST', body: form })
}
/** Follows a download the way a browser does (the S3 redirect included) and returns the final answer. */
async function download(app: RunningApp, who: Client, ticketId: string, attId: string) {
  const first = await who.fetch(`/api/tickets/${ticketId}/attachments/${attId}`)
  if (first.status !== 302) return { first, final: first }
  return { first, final: await fetch(first.headers.get('location')!) }
}

export function attachmentSuite(backend: Backend) {
  let s3: RunningS3 | undefined
  let app: RunningApp
  let store: Store
  let admin: Client
  let alice: Actor // requester at acme
  let carol: Actor // requester at acme who sees the organisation's tickets
  let bob: Actor // requester at globex
  let agent: Actor // agent for acme

  beforeAll(async () => {
    s3 = backend === 's3' ? await startS3() : undefined
    app = await startApp({ ...limits, ...s3?.env })
    store = new Store(backend, app, s3)
    admin = await signedInAdmin(app.url)
    ;[alice, carol, bob, agent] = await Promise.all([
      userClient(admin, 'requester', { orgs: ['acme'], name: 'Alice Requester' }),
      userClient(admin, 'requester', { orgs: ['acme'], flags: ['visibility-org'], name: 'Carol Colleague' }),
      userClient(admin, 'requester', { orgs: ['globex'], name: 'Bob Outsider' }),
      userClient(admin, 'agent', { orgs: ['acme'], name: 'Agnes Agent' }),
    ])
  })
  afterAll(async () => {
    await app?.stop()
    await s3?.stop()
  })

  async function openTicket(who: Client = alice) {
    const res = await who.post('/api/tickets', { title: 'Printer on fire', body: 'See the photo.' })
    expect(res.status).toBe(201)
    return res.body as { id: string, number: number }
  }

  describe(`attachments (${backend} storage)`, () => {
    it('uploads through a presigned URL and downloads the same bytes under the original name', async () => {
      const ticket = await openTicket()
      const bytes = randomBytes(300_000)
      const signed = await presign(alice, ticket.id, { filename: '../Prüfbericht März.pdf', contentType: 'application/pdf', size: bytes.length })
      expect(signed.status).toBe(201)
      expect(signed.body.attachment).toMatchObject({ state: 'pending', filename: 'Prüfbericht März.pdf', size: bytes.length })
      expect(signed.body.upload).toMatchObject({ method: 'PUT', headers: { 'Content-Type': 'application/pdf', 'Content-Disposition': expect.stringContaining('Pr%C3%BCfbericht') } })
      const expiresIn = Date.parse(signed.body.upload.expiresAt) - Date.now()
      expect(expiresIn).toBeGreaterThan(200_000)
      expect(expiresIn).toBeLessThanOrEqual(300_000)
      if (backend === 's3') expect(signed.body.upload.url.startsWith(s3!.endpoint)).toBe(true)

      // Not listed, not downloadable until complete.
      expect((await alice.get(`/api/tickets/${ticket.id}/attachments`)).body.data).toEqual([])
      expect((await put(app, signed.body.upload, bytes)).status).toBe(200)
      const done = await alice.post(`/api/tickets/${ticket.id}/attachments/${signed.body.attachment.id}/complete`)
      expect(done.status).toBe(200)
      expect(done.body).toMatchObject({ id: signed.body.attachment.id, state: 'ready', uploadedBy: { id: alice.user.id, name: 'Alice Requester' } })

      const list = await agent.get(`/api/tickets/${ticket.number}/attachments`)
      expect(list.body.data.map((a: any) => [a.filename, a.size, a.contentType, a.uploadedBy.name])).toEqual([['Prüfbericht März.pdf', bytes.length, 'application/pdf', 'Alice Requester']])

      const { first, final } = await download(app, agent, ticket.id, done.body.id)
      expect(first.status).toBe(backend === 's3' ? 302 : 200)
      expect(final.status).toBe(200)
      expect(final.headers.get('content-disposition')).toBe(`attachment; filename="Prufbericht Marz.pdf"; filename*=UTF-8''Pr%C3%BCfbericht%20M%C3%A4rz.pdf`)
      expect(sha(await final.arrayBuffer())).toBe(sha(bytes))
    })

    it('refuses tampered upload URLs, a different file type and a different size', async () => {
      const ticket = await openTicket()
      const bytes = randomBytes(2048)
      const signed = await presign(alice, ticket.id, { filename: 'log.txt', contentType: 'text/plain', size: bytes.length })
      const url = new URL(signed.body.upload.url, app.url)
      const tampered = backend === 's3'
        ? new URL(url.href.replace(signed.body.attachment.id, '00000000-0000-4000-8000-000000000000'))
        : new URL(url.href.replace(/\.([\w-]+)$/, (_, sig: string) => `.${sig.slice(0, -2)}AA`))
      expect((await put(app, { url: tampered.href, headers: signed.body.upload.headers }, bytes)).status).toBe(403)
      const otherType = await put(app, signed.body.upload, bytes, { 'Content-Type': 'text/html' })
      expect(otherType.ok).toBe(false)
      const otherSize = await put(app, signed.body.upload, Buffer.concat([bytes, randomBytes(10)]))
      expect(otherSize.ok).toBe(false)
      const done = await alice.post(`/api/tickets/${ticket.id}/attachments/${signed.body.attachment.id}/complete`)
      expect(done.status).toBe(409)
      expect(await store.holds(signed.body.attachment.id)).toBe(false)
    })

    it('checks the stored size on completion and removes a file that does not match', async () => {
      const ticket = await openTicket()
      const signed = await presign(alice, ticket.id, { filename: 'photo.png', contentType: 'image/png', size: 1000 })
      await store.plant(ticket.id, signed.body.attachment.id, randomBytes(999))
      const done = await alice.post(`/api/tickets/${ticket.id}/attachments/${signed.body.attachment.id}/complete`)
      expect(done.status).toBe(409)
      expect(done.body.message).toMatch(/999 bytes, but 1000/)
      expect(await store.holds(signed.body.attachment.id)).toBe(false)
      expect((await alice.get(`/api/tickets/${ticket.id}/attachments`)).body.data).toEqual([])
    })

    it('refuses files that are too large or of a forbidden type before storing anything', async () => {
      const ticket = await openTicket()
      const big = await presign(alice, ticket.id, { filename: 'huge.zip', contentType: 'application/zip', size: 10 * MiB + 1 })
      expect(big.status).toBe(400)
      expect(big.body.data.issues).toEqual([{ field: 'size', problem: `must be at most ${10 * MiB} bytes` }])
      const exe = await presign(alice, ticket.id, { filename: 'setup.exe', contentType: 'application/x-msdownload', size: 10 })
      expect(exe.status).toBe(400)
      expect(exe.body.data.issues[0].field).toBe('contentType')

      const html = await directUpload(alice, ticket.id, Buffer.from('<script>alert(1)</script>'), 'x.html', 'text/html')
      expect(html.status).toBe(400)
      // A streamed body without a length is cut off at the limit.
      const form = new FormData()
      form.append('file', new Blob([Buffer.alloc(10 * MiB + 1)], { type: 'application/zip' }), 'huge.zip')
      const encoded = new Response(form)
      const streamed = await alice.fetch(`/api/tickets/${ticket.id}/attachments`, {
        method: 'POST', body: encoded.body, headers: { 'content-type': encoded.headers.get('content-type')! }, duplex: 'half',
      } as RequestInit)
      expect(streamed.status).toBe(400)
      expect((await streamed.json()).data.issues[0]).toEqual({ field: 'file', problem: `must be at most ${10 * MiB} bytes` })

      expect((await alice.get(`/api/tickets/${ticket.id}/attachments`)).body.data).toEqual([])
      expect(await store.holds(ticket.id)).toBe(false)
    })

    it('streams a direct multipart upload larger than one storage part and returns it intact', async () => {
      const ticket = await openTicket()
      const bytes = randomBytes(9 * MiB)
      const res = await directUpload(agent, ticket.id, bytes, 'capture.zip', 'application/zip')
      expect(res.status).toBe(201)
      const attachment = await res.json()
      expect(attachment).toMatchObject({ filename: 'capture.zip', size: bytes.length, state: 'ready', uploadedBy: { name: 'Agnes Agent' } })
      const { final } = await download(app, alice, ticket.id, attachment.id)
      expect(sha(await final.arrayBuffer())).toBe(sha(bytes))
    })

    // Only the local backend keeps partial files on this machine's disk; S3 multipart aborts on its side.
    if (backend === 'local') it('leaves no partial file behind when the client goes away mid-upload', async () => {
      const ticket = await openTicket()
      const boundary = 'interrupted-upload'
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\nContent-Type: application/zip\r\n\r\n`
      const controller = new AbortController()
      const body = new ReadableStream({
        start(stream) {
          stream.enqueue(Buffer.from(head))
          stream.enqueue(randomBytes(MiB))
          // …and then nothing more: the connection stays open until the client gives up.
        },
      })
      const sent = alice.fetch(`/api/tickets/${ticket.id}/attachments`, {
        method: 'POST', body, signal: controller.signal, duplex: 'half', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      } as RequestInit).catch(() => null)
      await expect.poll(() => store.holds(ticket.id), { timeout: 10_000 }).toBe(true)
      controller.abort()
      await sent
      await expect.poll(() => store.holds(ticket.id), { timeout: 10_000 }).toBe(false)
      expect((await alice.get(`/api/tickets/${ticket.id}/attachments`)).body.data).toEqual([])
    })

    it('caps the number of files per ticket', async () => {
      const ticket = await openTicket()
      for (let i = 0; i < 4; i++) expect((await presign(agent, ticket.id, { filename: `f${i}.txt`, contentType: 'text/plain', size: 5 })).status).toBe(201)
      const fifth = await presign(agent, ticket.id, { filename: 'f5.txt', contentType: 'text/plain', size: 5 })
      expect(fifth.status).toBe(409)
      expect(fifth.body.message).toMatch(/maximum of 4/)
    })

    it('keeps files on internal notes away from requesters', async () => {
      const ticket = await openTicket()
      const note = await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Vendor quote attached', internal: true })
      const reply = await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'Here is the manual' })
      const secret = await uploadThroughPresign(app, agent, ticket.id, Buffer.from('internal price list'), { filename: 'quote.txt', contentType: 'text/plain', commentId: note.body.id })
      const manual = await uploadThroughPresign(app, agent, ticket.id, Buffer.from('the manual'), { filename: 'manual.txt', contentType: 'text/plain', commentId: reply.body.id })
      expect(secret.commentId).toBe(note.body.id)

      expect((await alice.get(`/api/tickets/${ticket.id}/attachments`)).body.data.map((a: any) => a.filename)).toEqual(['manual.txt'])
      expect((await agent.get(`/api/tickets/${ticket.id}/attachments`)).body.data.map((a: any) => a.filename)).toEqual(['quote.txt', 'manual.txt'])
      expect((await alice.fetch(`/api/tickets/${ticket.id}/attachments/${secret.id}`)).status).toBe(404)
      expect((await alice.delete(`/api/tickets/${ticket.id}/attachments/${secret.id}`)).status).toBe(404)
      expect((await download(app, alice, ticket.id, manual.id)).final.status).toBe(200)
      // A requester cannot hang files on somebody else's comment.
      expect((await presign(alice, ticket.id, { filename: 'x.txt', contentType: 'text/plain', size: 1, commentId: note.body.id })).status).toBe(400)
    })

    it('answers 404 on every attachment route to someone who cannot see the ticket', async () => {
      const ticket = await openTicket()
      const file = await uploadThroughPresign(app, alice, ticket.id, Buffer.from('hello'), { filename: 'hello.txt', contentType: 'text/plain' })
      const pending = await presign(alice, ticket.id, { filename: 'later.txt', contentType: 'text/plain', size: 3 })
      const base = `/api/tickets/${ticket.id}/attachments`
      expect((await bob.get(base)).status).toBe(404)
      expect((await presign(bob, ticket.id, { filename: 'x.txt', contentType: 'text/plain', size: 1 })).status).toBe(404)
      expect((await directUpload(bob, ticket.id, Buffer.from('x'), 'x.txt', 'text/plain')).status).toBe(404)
      expect((await bob.post(`${base}/${pending.body.attachment.id}/complete`)).status).toBe(404)
      expect((await bob.fetch(`${base}/${file.id}`)).status).toBe(404)
      expect((await bob.delete(`${base}/${file.id}`)).status).toBe(404)
      // …and to a colleague for the pending upload of somebody else.
      expect((await carol.post(`${base}/${pending.body.attachment.id}/complete`)).status).toBe(404)
      expect((await download(app, alice, ticket.id, file.id)).final.status).toBe(200)
    })

    it('lets the uploader or an agent delete a file, which removes the stored bytes', async () => {
      const ticket = await openTicket()
      const mine = await uploadThroughPresign(app, alice, ticket.id, Buffer.from('first'), { filename: 'a.txt', contentType: 'text/plain' })
      const other = await uploadThroughPresign(app, alice, ticket.id, Buffer.from('second'), { filename: 'b.txt', contentType: 'text/plain' })
      expect(await store.holds(mine.id)).toBe(true)
      // Carol sees the ticket (organisation-wide) but did not upload the file.
      expect((await carol.fetch(`/api/tickets/${ticket.id}/attachments/${mine.id}`)).status).not.toBe(404)
      expect((await carol.delete(`/api/tickets/${ticket.id}/attachments/${mine.id}`)).status).toBe(403)
      expect((await alice.delete(`/api/tickets/${ticket.id}/attachments/${mine.id}`)).status).toBe(204)
      expect((await agent.delete(`/api/tickets/${ticket.id}/attachments/${other.id}`)).status).toBe(204)
      expect((await alice.get(`/api/tickets/${ticket.id}/attachments`)).body.data).toEqual([])
      expect((await alice.fetch(`/api/tickets/${ticket.id}/attachments/${mine.id}`)).status).toBe(404)
      expect(await store.holds(mine.id)).toBe(false)
      expect(await store.holds(other.id)).toBe(false)
    })

    it('answers 404 in words, not a server error, for a listed file whose bytes are gone from storage', async () => {
      const ticket = await openTicket()
      const file = await uploadThroughPresign(app, alice, ticket.id, Buffer.from('soon gone'), { filename: 'gone.txt', contentType: 'text/plain' })
      await store.lose(ticket.id, file.id)
      const res = await agent.fetch(`/api/tickets/${ticket.id}/attachments/${file.id}`, { redirect: 'manual' })
      expect(res.status).toBe(404)
      expect((await res.json()).message).toBe('“gone.txt” is no longer in storage. An administrator can restore it from a backup.')
      expect(app.output()).toContain('an attachment is listed but its file is not in storage')
    })

    it('limits uploads per user per minute with 429 and Retry-After', async () => {
      const ticket = await openTicket(carol)
      for (let i = 0; i < 20; i++) expect((await carol.post(`/api/tickets/${ticket.id}/attachments/presign`, {})).status).toBe(400)
      const limited = await presign(carol, ticket.id, { filename: 'x.txt', contentType: 'text/plain', size: 1 })
      expect(limited.status).toBe(429)
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      // Other people are not affected (Bob gets as far as the visibility check).
      expect((await presign(bob, ticket.id, { filename: 'x.txt', contentType: 'text/plain', size: 1 })).status).toBe(404)
    })

    it('reports storage in readiness and shows which storage settings the environment fixes', async () => {
      expect((await fetch(`${app.url}/readyz`).then(r => r.json())).checks.storage).toBe('ok')
      const view = await admin.get('/api/admin/settings/storage')
      expect(view.body.backend).toBe(backend)
      if (backend === 's3') {
        expect(view.body).toMatchObject({ bucket: s3!.bucket, secretAccessKeySet: true, lockedByEnv: { backend: 'S3_BUCKET', bucket: 'S3_BUCKET', secretAccessKey: 'S3_SECRET_ACCESS_KEY' } })
        expect(view.body).not.toHaveProperty('secretAccessKey')
      }
      else {
        expect(view.body.lockedByEnv).toEqual({})
      }
    })
  })

  describe(`short-lived upload URLs and abandoned uploads (${backend} storage)`, () => {
    let shortApp: RunningApp
    let shortStore: Store
    let uploader: Client
    beforeAll(async () => {
      shortApp = await startApp({ ...s3?.env, UPLOAD_URL_TTL: '1', PENDING_UPLOAD_MAX_AGE: '2', ATTACHMENT_CLEANUP_INTERVAL: '1' })
      shortStore = new Store(backend, shortApp, s3)
      uploader = await signedInAdmin(shortApp.url)
    })
    afterAll(() => shortApp?.stop())

    it('refuses an upload URL after it expired', async () => {
      const { body: ticket } = await uploader.post('/api/tickets', { title: 'Expired', body: 'x' })
      const signed = await presign(uploader, ticket.id, { filename: 'late.txt', contentType: 'text/plain', size: 4 })
      // Wait until the URL has expired (its lifetime is one second here).
      await new Promise(r => setTimeout(r, Date.parse(signed.body.upload.expiresAt) - Date.now() + 1100))
      const late = await put(shortApp, signed.body.upload, Buffer.from('late'))
      expect(late.status).toBe(403)
      expect(await shortStore.holds(signed.body.attachment.id)).toBe(false)
    })

    it('removes uploads that were never completed, bytes included', async () => {
      const { body: ticket } = await uploader.post('/api/tickets', { title: 'Abandoned', body: 'x' })
      const signed = await presign(uploader, ticket.id, { filename: 'gone.txt', contentType: 'text/plain', size: 4 })
      await shortStore.plant(ticket.id, signed.body.attachment.id, Buffer.from('gone'))
      await expect.poll(() => shortStore.holds(signed.body.attachment.id), { timeout: 15_000, interval: 250 }).toBe(false)
      expect((await uploader.post(`/api/tickets/${ticket.id}/attachments/${signed.body.attachment.id}/complete`)).status).toBe(404)
    })
  })

  return { app: () => app }
}
