import { join } from 'node:path'
import { eq, sql } from 'drizzle-orm'
import { S3ServiceException } from '@aws-sdk/client-s3'
import { createError } from 'h3'
import type { StorageField, StorageSettingsData, StorageSettingsView } from '../../shared/types/attachment'
import { useDb } from '../db/client'
import { settings } from '../db/schema'
import type { Config } from '../utils/config'
import { useConfig } from '../utils/config'
import type { Actor } from '../utils/principal'
import { audit } from './audit'
import { isPublicEndpoint } from '../utils/endpoint-guard'
import { useLogger } from '../utils/logger'
import { decryptSecret, encryptSecret } from '../utils/settings-key'
import type { Storage, StorageSettings } from '../utils/storage'
import { createStorage } from '../utils/storage'

/** The storage settings as kept in the `settings` table; the secret only ever encrypted. */
interface StoredStorageSettings {
  backend: 'local' | 's3'
  endpoint: string
  region: string
  bucket: string
  accessKeyId: string
  secretAccessKeyEncrypted: string | null
  forcePathStyle: boolean
}

export type Effective = Omit<StoredStorageSettings, 'secretAccessKeyEncrypted'> & { secretAccessKey: string }

const settingsKey = 'storage'
const blank: StoredStorageSettings = { backend: 'local', endpoint: '', region: '', bucket: '', accessKeyId: '', secretAccessKeyEncrypted: null, forcePathStyle: false }

/** Environment variables win over stored settings, field by field. */
function fromEnvironment(config: Config): { values: Partial<Effective>, locked: Partial<Record<StorageField, string>> } {
  const values: Partial<Effective> = {}
  const locked: Partial<Record<StorageField, string>> = {}
  const take = <K extends keyof Effective & StorageField>(field: K, variable: keyof Config, value: Effective[K] | undefined) => {
    if (value === undefined) return
    values[field] = value
    locked[field] = variable
  }
  take('backend', config.STORAGE_BACKEND ? 'STORAGE_BACKEND' : 'S3_BUCKET', config.STORAGE_BACKEND ?? (config.S3_BUCKET ? 's3' : undefined))
  take('endpoint', 'S3_ENDPOINT', config.S3_ENDPOINT)
  take('region', 'S3_REGION', config.S3_REGION)
  take('bucket', 'S3_BUCKET', config.S3_BUCKET)
  take('accessKeyId', 'S3_ACCESS_KEY_ID', config.S3_ACCESS_KEY_ID)
  take('secretAccessKey', 'S3_SECRET_ACCESS_KEY', config.S3_SECRET_ACCESS_KEY)
  take('forcePathStyle', 'S3_FORCE_PATH_STYLE', config.S3_FORCE_PATH_STYLE)
  return { values, locked }
}

async function loadStored(): Promise<{ value: StoredStorageSettings, updatedAt: Date | null }> {
  const db = await useDb()
  const [row] = await db.select().from(settings).where(eq(settings.key, settingsKey))
  return { value: { ...blank, ...(row?.value as Partial<StoredStorageSettings> | undefined) }, updatedAt: row?.updatedAt ?? null }
}

async function effective(): Promise<Effective> {
  const { value } = await loadStored()
  const { secretAccessKeyEncrypted, ...rest } = value
  const secretAccessKey = secretAccessKeyEncrypted ? await decryptSecret(secretAccessKeyEncrypted) : ''
  return { ...rest, secretAccessKey, ...fromEnvironment(useConfig()).values }
}

/**
 * Whether an endpoint typed in the admin area must be on the public internet: unless the operator
 * allows private ones (STORAGE_ALLOW_PRIVATE_ENDPOINTS), so the server cannot be made to probe its
 * own network. One set by S3_ENDPOINT is the operator's choice and is not checked.
 */
function endpointMustBePublic(config: Config): boolean {
  return !config.S3_ENDPOINT && !(config.STORAGE_ALLOW_PRIVATE_ENDPOINTS ?? !config.production)
}

/** What the store is made from: a local folder, or an S3 client (public addresses only, where required). */
export function toStorageSettings(s: Effective, config: Config = useConfig()): StorageSettings {
  if (s.backend === 'local') return { backend: 'local', root: join(config.DATA_DIR, 'uploads') }
  return {
    publicOnly: endpointMustBePublic(config),
    backend: 's3',
    endpoint: s.endpoint || undefined,
    region: s.region || 'us-east-1',
    bucket: s.bucket,
    accessKeyId: s.accessKeyId || undefined,
    secretAccessKey: s.secretAccessKey || undefined,
    forcePathStyle: s.forcePathStyle,
  }
}

// Replicas pick up settings saved on another replica within this many milliseconds.
const cacheMs = 10_000
let cached: { storage: Promise<Storage>, at: number } | undefined

/** The attachment store as currently configured (environment over admin settings). */
export function useStorage(): Promise<Storage> {
  if (!cached || Date.now() - cached.at > cacheMs) {
    const storage = effective().then(s => createStorage(toStorageSettings(s)))
    cached = { storage, at: Date.now() }
    storage.catch(() => (cached = undefined))
  }
  return cached.storage
}

export async function getStorageSettings(): Promise<StorageSettingsView> {
  const { value, updatedAt } = await loadStored()
  const env = fromEnvironment(useConfig())
  const { secretAccessKeyEncrypted, ...rest } = value
  const { secretAccessKey: envSecret, ...envValues } = env.values
  return {
    ...rest,
    ...envValues,
    secretAccessKeySet: !!(envSecret || secretAccessKeyEncrypted),
    lockedByEnv: env.locked,
    updatedAt: updatedAt?.toISOString() ?? null,
  }
}

/** The stored settings after applying `input`: an empty secret keeps the stored one. */
async function merged(input: StorageSettingsData): Promise<StoredStorageSettings> {
  const { value } = await loadStored()
  const { secretAccessKey, ...fields } = input
  return { ...fields, secretAccessKeyEncrypted: secretAccessKey ? await encryptSecret(secretAccessKey) : value.secretAccessKeyEncrypted }
}

/** Checked when the settings are tried or saved; connections check again (`publicOnly`). */
async function endpointAllowed(input: StorageSettingsData): Promise<boolean> {
  if (input.backend !== 's3' || !input.endpoint || !endpointMustBePublic(useConfig())) return true
  return isPublicEndpoint(input.endpoint)
}

const s3Refusals = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'NoSuchBucket', 'AuthorizationHeaderMalformed', 'InvalidBucketName'])

const endpointRefused = () => createError({ statusCode: 400, statusMessage: 'Invalid input', message: 'endpoint: must be a public address (private, loopback and link-local addresses are not allowed)', data: { issues: [{ field: 'endpoint', problem: 'must be a public address (private, loopback and link-local addresses are not allowed)' }] } })

export async function saveStorageSettings(actor: Actor, input: StorageSettingsData): Promise<StorageSettingsView> {
  if (!(await endpointAllowed(input))) throw endpointRefused()
  const value = await merged(input)
  const db = await useDb()
  await db.insert(settings).values({ key: settingsKey, value, updatedBy: actor.actorId })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedBy: actor.actorId, updatedAt: sql`now()` } })
  cached = undefined
  // Which values changed is not recorded: the secret must never reach the log.
  await audit(actor, { action: 'settings_changed', target: { type: 'settings', id: 'storage' }, details: { backend: value.backend, secretChanged: !!input.secretAccessKey } })
  return getStorageSettings()
}

/** Tries the given settings (with environment overrides, as they would apply) without saving them. */
export async function testStorageSettings(input: StorageSettingsData): Promise<{ ok: boolean, message: string }> {
  if (!(await endpointAllowed(input))) throw endpointRefused()
  const { secretAccessKeyEncrypted, ...value } = await merged(input)
  const candidate: Effective = {
    ...value,
    secretAccessKey: secretAccessKeyEncrypted ? await decryptSecret(secretAccessKeyEncrypted) : '',
    ...fromEnvironment(useConfig()).values,
  }
  try {
    await createStorage(toStorageSettings(candidate)).check()
    return { ok: true, message: candidate.backend === 's3' ? `Connected: wrote, read and removed a test object in bucket ${candidate.bucket}.` : 'The uploads folder is writable.' }
  }
  catch (error) {
    // The details stay in the log: an answer that differed by host and port would map the network.
    useLogger().info({ err: error }, 'storage connection test failed')
    if (candidate.backend !== 's3') return { ok: false, message: 'The uploads folder is not writable.' }
    // An S3 store's own refusal (its error code) helps fix the settings; anything else looks alike.
    const cause = (error as Error).cause
    const code = cause instanceof S3ServiceException && s3Refusals.has(cause.name) ? ` (the store answered ${cause.name})` : ''
    return { ok: false, message: `The store could not be used with these settings${code}: check the endpoint, region, bucket and credentials.` }
  }
}
