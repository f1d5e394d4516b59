// One-shot set-up of the compose stack's Garage, safe to run again: the node's layout, the bucket,
// the app's access key (imported, so it is the one in deploy/.env) with read and write on the
// bucket, and the bucket's CORS rule for uploads from the browser (docs/storage.md).
// Runs in the Helpdesk image (node and @aws-sdk/client-s3 are there): see deploy/compose.yaml.
import { PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3'

function required(name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

const adminUrl = required('GARAGE_ADMIN_URL')
const token = required('GARAGE_ADMIN_TOKEN')
const bucketName = required('S3_BUCKET')
const accessKeyId = required('S3_ACCESS_KEY_ID')
const secretAccessKey = required('S3_SECRET_ACCESS_KEY')
const capacity = Number(required('GARAGE_CAPACITY'))
if (!Number.isSafeInteger(capacity) || capacity <= 0) throw new Error('GARAGE_CAPACITY must be a number of bytes')

/** Garage's admin API (v2): every operation is `/v2/<Name>`, a GET with a query or a POST with JSON. */
async function admin(operation, body) {
  const response = await fetch(`${adminUrl}/v2/${operation}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  if (!response.ok) throw new Error(`${operation} answered ${response.status}: ${await response.text()}`)
  const text = await response.text()
  return text ? JSON.parse(text) : null
}

/** The node may still be joining its own layout; each step is retried for a minute. */
async function step(name, work) {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await work()
      console.log(`garage-init: ${name}: ok`)
      return result
    }
    catch (error) {
      if (attempt >= 30) throw new Error(`garage-init: ${name} failed: ${error.message}`, { cause: error })
      await new Promise(resolve => setTimeout(resolve, 2000))
    }
  }
}

await step('layout', async () => {
  const status = await admin('GetClusterStatus')
  const node = status.nodes[0]
  if (node.role) return
  const layout = await admin('GetClusterLayout')
  await admin('UpdateClusterLayout', { roles: [{ id: node.id, zone: 'dc1', capacity, tags: [] }] })
  await admin('ApplyClusterLayout', { version: layout.version + 1 })
})

const bucket = await step(`bucket ${bucketName}`, async () => {
  const existing = (await admin('ListBuckets')).find(b => b.globalAliases.includes(bucketName))
  return existing ?? admin('CreateBucket', { globalAlias: bucketName })
})

await step(`key ${accessKeyId}`, async () => {
  const known = (await admin('ListKeys')).some(k => k.id === accessKeyId)
  if (!known) await admin('ImportKey', { accessKeyId, secretAccessKey, name: 'helpdesk' })
  await admin('AllowBucketKey', { bucketId: bucket.id, accessKeyId, permissions: { read: true, write: true, owner: false } })
})

// Setting CORS needs the bucket's owner right, which the app's key does not get: a short-lived key does it.
await step('CORS rule', async () => {
  const owner = await admin('CreateKey', { name: 'helpdesk-init' })
  try {
    await admin('AllowBucketKey', { bucketId: bucket.id, accessKeyId: owner.accessKeyId, permissions: { read: false, write: false, owner: true } })
    const s3 = new S3Client({
      endpoint: required('GARAGE_S3_URL'),
      region: 'garage',
      forcePathStyle: true,
      credentials: { accessKeyId: owner.accessKeyId, secretAccessKey: owner.secretAccessKey },
    })
    await s3.send(new PutBucketCorsCommand({
      Bucket: bucketName,
      CORSConfiguration: {
        CORSRules: [{
          AllowedOrigins: [required('CORS_ORIGIN')],
          AllowedMethods: ['PUT', 'GET'],
          AllowedHeaders: ['content-type', 'content-disposition'],
          ExposeHeaders: ['ETag'],
          MaxAgeSeconds: 3000,
        }],
      },
    }))
  }
  finally {
    await admin(`DeleteKey?id=${encodeURIComponent(owner.accessKeyId)}`, {})
  }
})
