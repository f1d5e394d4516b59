import { z } from 'zod'
import type { PersonRef } from './ticket'

export interface Attachment {
  id: string
  filename: string
  size: number
  contentType: string
  state: 'pending' | 'ready'
  /** The reply or internal note the file belongs to; null for files on the ticket itself. */
  commentId: string | null
  createdAt: string
  uploadedBy: PersonRef
}

export interface PresignedUpload {
  attachment: Attachment
  upload: { url: string, method: 'PUT', headers: Record<string, string>, expiresAt: string }
}

const mediaType = z.string().trim().toLowerCase().regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/, 'must be a media type like image/png')

export const presignSchema = z.object({
  filename: z.string().min(1, 'is required').max(1000),
  contentType: mediaType,
  size: z.number().int().min(1, 'must be at least 1 byte').max(Number.MAX_SAFE_INTEGER),
  commentId: z.uuid().optional(),
})
export type PresignInput = z.infer<typeof presignSchema>

export const storageBackends = ['local', 's3'] as const

/** What the admin area may store; the secret is write-only (an empty value keeps the stored one). */
export const storageSettingsSchema = z.object({
  backend: z.enum(storageBackends),
  endpoint: z.union([z.literal(''), z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })]).default(''),
  region: z.string().trim().max(64).default(''),
  bucket: z.union([z.literal(''), z.string().trim().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name')]).default(''),
  accessKeyId: z.string().trim().max(256).default(''),
  secretAccessKey: z.string().max(1024).optional(),
  forcePathStyle: z.boolean().default(false),
}).refine(s => s.backend !== 's3' || s.bucket, { path: ['bucket'], message: 'is required for S3' })
export type StorageSettingsInput = z.input<typeof storageSettingsSchema>
export type StorageSettingsData = z.output<typeof storageSettingsSchema>

export const storageFields = ['backend', 'endpoint', 'region', 'bucket', 'accessKeyId', 'secretAccessKey', 'forcePathStyle'] as const
export type StorageField = (typeof storageFields)[number]

export interface StorageSettingsView {
  backend: 'local' | 's3'
  endpoint: string
  region: string
  bucket: string
  accessKeyId: string
  secretAccessKeySet: boolean
  forcePathStyle: boolean
  /** Fields set by environment variables, which win over stored settings: field → variable. */
  lockedByEnv: Partial<Record<StorageField, string>>
  updatedAt: string | null
}
