import type { Readable } from 'node:stream'
import { createLocalStorage } from './local'
import { createS3Storage } from './s3'

/** Where attachments' bytes live. Both backends answer the same questions the same way. */
export interface Storage {
  readonly backend: 'local' | 's3'
  /** A URL the browser PUTs the file to, with the headers it must send; valid for `expiresIn` seconds. */
  presignUpload(key: string, file: { contentType: string, contentDisposition: string, size: number, expiresIn: number }): Promise<{ url: string, headers: Record<string, string> }>
  /**
   * Streams `body` into the store and returns its size; throws `UploadTooLarge` past `maxBytes` (nothing is kept).
   * `once` (local store): keep it only when it has exactly `size` bytes and nothing is stored under the key yet.
   */
  write(key: string, body: Readable, file: { contentType: string, contentDisposition: string, maxBytes: number, once?: { size: number } }): Promise<number>
  /** The stored object's size, or null when there is none. */
  stat(key: string): Promise<{ size: number } | null>
  /** Removes the object; removing a missing object is not an error. */
  remove(key: string): Promise<void>
  /**
   * How to hand the file to the browser: a short-lived URL to redirect to (the store answers with the
   * type and disposition saved with the object), or a stream. Throws `StoredFileMissing` when the
   * store has no such object.
   */
  download(key: string, file: { expiresIn: number }): Promise<{ redirect: string } | { stream: Readable, size: number }>
  /** Writes, reads and removes a probe object; throws a short human message when that fails. */
  check(): Promise<void>
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>
  /** The origin browsers upload to and download from when it is not the app's own (for CORS and CSP), else null. */
  browserOrigin(): Promise<string | null>
}

export class UploadTooLarge extends Error {
  constructor() {
    super('The file is larger than allowed.')
  }
}

/** The database lists a file the store no longer holds (removed behind the app's back, a restore without the bucket). */
export class StoredFileMissing extends Error {
  constructor(readonly key: string) {
    super(`stored file missing: ${key}`)
  }
}

export interface S3Settings {
  endpoint?: string
  region: string
  bucket: string
  accessKeyId?: string
  secretAccessKey?: string
  forcePathStyle: boolean
  /** The endpoint was typed in the admin area and must stay public: every connection checks its addresses. */
  publicOnly?: boolean
}

export type StorageSettings = { backend: 'local', root: string } | ({ backend: 's3' } & S3Settings)

export function createStorage(settings: StorageSettings): Storage {
  return settings.backend === 's3' ? createS3Storage(settings) : createLocalStorage(settings.root)
}

/** Where a probe object goes when a store is checked; never a key an attachment can have. */
export const probeKey = '.helpdesk/connection-check'
