import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { publicOnlyLookup } from '../endpoint-guard'
import { useConfig } from '../config'
import { DependencyUnavailable } from '../dependencies'
import type { S3Settings, Storage } from './index'
import { probeKey, StoredFileMissing, UploadTooLarge } from './index'

// Streams of unknown length (direct uploads) go up in parts of this size, so memory stays bounded.
const partSize = 8 * 1024 * 1024

const isNotFound = (error: unknown) =>
  error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey')

function describe(error: unknown): string {
  if (error instanceof S3ServiceException) return `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})${error.message && error.message !== error.name ? `: ${error.message}` : ''}`
  return (error as Error).message
}

/** Connections as the SDK's own agents make them, to public addresses only (an admin's endpoint). */
function publicOnlyAgents() {
  const options = { keepAlive: true, maxSockets: 50, lookup: publicOnlyLookup }
  return { httpAgent: new HttpAgent(options), httpsAgent: new HttpsAgent(options) }
}

/** Any S3-compatible store: AWS, Garage, MinIO, Ceph. The browser talks to it directly with presigned URLs. */
export function createS3Storage(settings: S3Settings): Storage {
  const timeoutMs = useConfig().OBJECTSTORE_TIMEOUT_MS
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.accessKeyId && settings.secretAccessKey
      ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
      : undefined,
    // Without this the SDK adds checksums of the body to presigned PUT URLs, which a browser cannot match.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A store that stops answering fails the request after OBJECTSTORE_TIMEOUT_MS, retries included.
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, ...(settings.publicOnly ? publicOnlyAgents() : {}) },
  })
  const Bucket = settings.bucket

  /**
   * Every call to the store: bounded by OBJECTSTORE_TIMEOUT_MS; a store that cannot be reached,
   * times out or fails on its side (5xx) is an outage (503). Its 4xx answers stay what they are.
   */
  const guarded = <T>(answer: Promise<T>): Promise<T> => answer.catch((error: unknown) => {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode ?? 500 : 500
    throw status < 500 ? error : new DependencyUnavailable('storage', { cause: error })
  })
  const timeout = () => ({ abortSignal: AbortSignal.timeout(timeoutMs) })

  async function putInParts(key: string, body: AsyncIterable<Buffer>, meta: { ContentType: string, ContentDisposition: string }, maxBytes: number): Promise<number> {
    let pending: Buffer[] = []
    let pendingBytes = 0
    let total = 0
    let uploadId: string | undefined
    const parts: { ETag?: string, PartNumber: number }[] = []
    const sendPart = async () => {
      uploadId ??= (await guarded(client.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ...meta }), timeout()))).UploadId
      const PartNumber = parts.length + 1
      const { ETag } = await guarded(client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber, Body: Buffer.concat(pending) }), timeout()))
      parts.push({ ETag, PartNumber })
      pending = []
      pendingBytes = 0
    }
    try {
      for await (const chunk of body) {
        total += chunk.length
        if (total > maxBytes) throw new UploadTooLarge()
        pending.push(chunk)
        pendingBytes += chunk.length
        if (pendingBytes >= partSize) await sendPart()
      }
      if (!uploadId) {
        await guarded(client.send(new PutObjectCommand({ Bucket, Key: key, Body: Buffer.concat(pending), ContentLength: pendingBytes, ...meta }), timeout()))
        return total
      }
      if (pendingBytes) await sendPart()
      await guarded(client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), timeout()))
      return total
    }
    catch (error) {
      if (uploadId) await guarded(client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }), timeout())).catch(() => {})
      throw error
    }
  }

  return {
    backend: 's3',

    async presignUpload(key, file) {
      const command = new PutObjectCommand({ Bucket, Key: key, ContentType: file.contentType, ContentLength: file.size, ContentDisposition: file.contentDisposition })
      // Type, length and disposition are part of the signature: the store refuses any other file, and
      // keeps the disposition with the object so downloads always save under the original name.
      const url = await getSignedUrl(client, command, { expiresIn: file.expiresIn, signableHeaders: new Set(['content-type', 'content-length', 'content-disposition']) })
      return { url, headers: { 'Content-Type': file.contentType, 'Content-Disposition': file.contentDisposition } }
    },

    write(key, body, file) {
      return putInParts(key, body, { ContentType: file.contentType, ContentDisposition: file.contentDisposition }, file.maxBytes)
    },

    async stat(key) {
      try {
        const head = await guarded(client.send(new HeadObjectCommand({ Bucket, Key: key }), timeout()))
        return { size: head.ContentLength ?? 0 }
      }
      catch (error) {
        if (isNotFound(error)) return null
        throw error
      }
    },

    async remove(key) {
      await guarded(client.send(new DeleteObjectCommand({ Bucket, Key: key }), timeout()))
    },

    async download(key, file) {
      // Asks the store first: while it is down the download answers 503 here, not an error page of the store.
      await guarded(client.send(new HeadObjectCommand({ Bucket, Key: key }), timeout())).catch((error: unknown) => {
        throw isNotFound(error) ? new StoredFileMissing(key) : error
      })
      return { redirect: await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: key }), { expiresIn: file.expiresIn }) }
    },

    async check() {
      try {
        await guarded(client.send(new PutObjectCommand({ Bucket, Key: probeKey, Body: 'ok', ContentType: 'text/plain' }), timeout()))
        const head = await guarded(client.send(new HeadObjectCommand({ Bucket, Key: probeKey }), timeout()))
        if (head.ContentLength !== 2) throw new Error('the probe object came back with the wrong size')
        await guarded(client.send(new DeleteObjectCommand({ Bucket, Key: probeKey }), timeout()))
      }
      catch (error) {
        throw new Error(`Bucket ${Bucket}: ${describe(error)}`, { cause: error })
      }
    },

    async browserOrigin() {
      // Exactly where presigned URLs point (virtual-hosted or path style, custom endpoint or AWS).
      return new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: probeKey }), { expiresIn: 60 })).origin
    },

    async ping() {
      // An object-level GET (credentials need not list the bucket): NoSuchKey proves the bucket answers,
      // where a HEAD could not tell a missing key from a missing bucket.
      try {
        const probe = await guarded(client.send(new GetObjectCommand({ Bucket, Key: probeKey, Range: 'bytes=0-0' }), timeout()))
        await probe.Body?.transformToByteArray()
      }
      catch (error) {
        if (!(error instanceof S3ServiceException && error.name === 'NoSuchKey')) throw error
      }
    },
  }
}
