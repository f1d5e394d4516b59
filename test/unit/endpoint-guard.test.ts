import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toStorageSettings } from '../../server/services/storage-settings'
import { parseConfig } from '../../server/utils/config'
import { isPublicEndpoint, publicOnlyLookup } from '../../server/utils/endpoint-guard'
import { createS3Storage } from '../../server/utils/storage/s3'
import { productionEnv } from '../fixtures/config'
import type { RunningS3 } from '../fixtures/s3'
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3 } from '../fixtures/s3'

/**
 * An endpoint an admin saved was public when it was checked; its name could be made to resolve to
 * the server's own network afterwards (DNS rebinding). `localhost` plays that name here: it
 * resolves to loopback when the connection is made.
 */
let s3: RunningS3
let port: number
const seen: string[] = []
const server = createServer((req, res) => {
  seen.push(req.url ?? '')
  res.end('internal')
})
beforeAll(async () => {
  s3 = await startS3('rebinding')
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  await s3?.stop()
  await new Promise(r => server.close(r))
})

const get = (path: string, lookup?: typeof publicOnlyLookup) => new Promise<string>((resolve, reject) => {
  request({ host: 'localhost', port, path, lookup, family: 4 }, (res) => {
    let body = ''
    res.on('data', (c: Buffer) => (body += c.toString()))
    res.on('end', () => resolve(body))
  }).on('error', reject).end()
})

describe('connections to an endpoint typed in the admin area', () => {
  it('are refused when its name resolves to an internal address as they are made, and reach nothing', async () => {
    expect(await isPublicEndpoint(`http://localhost:${port}`)).toBe(false)
    await expect(get('/guarded', publicOnlyLookup)).rejects.toMatchObject({ code: 'ENOTPUBLIC', message: 'localhost does not resolve to public addresses only' })
    expect(seen).toEqual([])
    // The same request without the check reaches the server: the refusal is the check's.
    expect(await get('/unguarded')).toBe('internal')
    expect(seen).toEqual(['/unguarded'])
  })

  it('go through the S3 client only to public addresses when the settings say so', async () => {
    const settings = { endpoint: s3.endpoint.replace('127.0.0.1', 'localhost'), region: 'us-east-1', bucket: s3.bucket, accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, forcePathStyle: true }
    // Refused like a store that is down (503 for an upload, "could not be used" for the test).
    const refused = await createS3Storage({ ...settings, publicOnly: true }).check().then(() => null, (e: Error) => e)
    expect(refused?.message).toBe('Bucket rebinding: The file store is not answering. Try again in a moment.')
    let cause: unknown = refused
    while (cause instanceof Error && cause.cause) cause = cause.cause
    expect(cause).toMatchObject({ code: 'ENOTPUBLIC' })
    await expect(createS3Storage(settings).check()).resolves.toBeUndefined()
  })
})

describe('what the admin area\'s storage settings make', () => {
  const s3 = { backend: 's3' as const, endpoint: 'https://store.example.com', region: 'eu-1', bucket: 'b', accessKeyId: 'k', secretAccessKey: 's', forcePathStyle: true }

  it('is a client that connects to public addresses only in production, unless the operator chose otherwise', () => {
    const publicOnly = (env: Record<string, string>) => (toStorageSettings(s3, parseConfig({ ...productionEnv, ...env })) as { publicOnly?: boolean }).publicOnly
    expect(publicOnly({})).toBe(true)
    expect(publicOnly({ STORAGE_ALLOW_PRIVATE_ENDPOINTS: 'true' })).toBe(false)
    // S3_ENDPOINT is the operator's own address and is not checked.
    expect(publicOnly({ S3_ENDPOINT: 'http://minio:9000', S3_BUCKET: 'attachments' })).toBe(false)
    expect((toStorageSettings(s3, parseConfig({})) as { publicOnly?: boolean }).publicOnly).toBe(false)
  })
})
