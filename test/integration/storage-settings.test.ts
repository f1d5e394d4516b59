import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import type { Client } from '../fixtures/client'
import { signedInAdmin, userClient } from '../fixtures/client'
import type { RunningS3 } from '../fixtures/s3'
import { addS3KeyPair, startS3 } from '../fixtures/s3'

const accessKeyId = 'helpdesk-admin-key'
const secret = `secret-${randomBytes(12).toString('hex')}`

let s3: RunningS3
let app: RunningApp
let admin: Client
beforeAll(async () => {
  s3 = await startS3()
  addS3KeyPair(accessKeyId, secret)
  app = await startApp()
  admin = await signedInAdmin(app.url)
})
afterAll(async () => {
  await app?.stop()
  await s3?.stop()
})

const s3Settings = (extra: Record<string, unknown> = {}) => ({ backend: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, accessKeyId, forcePathStyle: true, ...extra })

describe('storage settings in the admin area', () => {
  it('starts on local disk and is for admins to change, managers to read', async () => {
    const manager = await userClient(admin, 'manager')
    const requester = await userClient(admin, 'requester')
    const view = await manager.get('/api/admin/settings/storage')
    expect(view.status).toBe(200)
    expect(view.body).toMatchObject({ backend: 'local', secretAccessKeySet: false, lockedByEnv: {} })
    expect((await manager.request('PUT', '/api/admin/settings/storage', s3Settings())).status).toBe(403)
    expect((await manager.post('/api/admin/settings/storage/test', s3Settings())).status).toBe(403)
    expect((await requester.get('/api/admin/settings/storage')).status).toBe(403)
    const bad = await admin.request('PUT', '/api/admin/settings/storage', { backend: 's3', bucket: '' })
    expect(bad.status).toBe(400)
    expect(bad.body.data.issues).toEqual([{ field: 'bucket', problem: 'is required for S3' }])
  })

  it('tests a connection before saving and says what went wrong', async () => {
    const wrong = await admin.post('/api/admin/settings/storage/test', s3Settings({ secretAccessKey: 'not-the-secret' }))
    expect(wrong.body.ok).toBe(false)
    expect(wrong.body.message).toMatch(/SignatureDoesNotMatch/)
    const right = await admin.post('/api/admin/settings/storage/test', s3Settings({ secretAccessKey: secret }))
    expect(right.body).toEqual({ ok: true, message: `Connected: wrote, read and removed a test object in bucket ${s3.bucket}.` })
  })

  it('stores the secret encrypted, never sends it back, and uploads go to S3 from then on', async () => {
    const saved = await admin.request('PUT', '/api/admin/settings/storage', s3Settings({ secretAccessKey: secret }))
    expect(saved.status).toBe(200)
    expect(saved.body).toMatchObject({ backend: 's3', bucket: s3.bucket, accessKeyId, secretAccessKeySet: true })
    expect(JSON.stringify(saved.body)).not.toContain(secret)
    expect(JSON.stringify((await admin.get('/api/admin/settings/storage')).body)).not.toContain(secret)
    const sql = postgres(app.ownerDatabaseUrl!, { max: 1 })
    const [row] = await sql`select value::text as value from settings where key = 'storage'`
    await sql.end()
    expect(row!.value).not.toContain(secret)
    expect(row!.value).toMatch(/"secretAccessKeyEncrypted": "v1\./)

    // Saving again without a secret keeps the stored one.
    expect((await admin.request('PUT', '/api/admin/settings/storage', s3Settings())).body.secretAccessKeySet).toBe(true)
    const { body: ticket } = await admin.post('/api/tickets', { title: 'Stored in S3', body: 'x' })
    const bytes = Buffer.from('bytes that go to the bucket')
    const signed = await admin.post(`/api/tickets/${ticket.id}/attachments/presign`, { filename: 'b.txt', contentType: 'text/plain', size: bytes.length })
    expect(signed.body.upload.url.startsWith(`${s3.endpoint}/${s3.bucket}/`)).toBe(true)
    expect((await fetch(signed.body.upload.url, { method: 'PUT', body: bytes, headers: signed.body.upload.headers })).status).toBe(200)
    expect((await admin.post(`/api/tickets/${ticket.id}/attachments/${signed.body.attachment.id}/complete`)).status).toBe(200)
    expect(await s3.holds(signed.body.attachment.id)).toBe(true)
    expect((await fetch(`${app.url}/readyz`).then(r => r.json())).checks.storage).toBe('ok')
  })
})

describe('storage readiness', () => {
  it('answers 503 naming storage while the bucket cannot be reached', async () => {
    await admin.request('PUT', '/api/admin/settings/storage', s3Settings({ bucket: 'no-such-bucket' }))
    const res = await fetch(`${app.url}/readyz`)
    expect(res.status).toBe(503)
    expect((await res.json()).checks).toEqual({ db: 'ok', redis: 'skipped', storage: 'error' })
    await admin.request('PUT', '/api/admin/settings/storage', s3Settings())
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200)
  })
})
