import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { useConfig } from './config'

let masterPromise: Promise<Buffer> | undefined

/**
 * SETTINGS_ENCRYPTION_KEY in production (checked at start-up). In development a key is generated
 * once and kept in the data directory, so stored secrets survive a restart.
 */
async function loadMaster(): Promise<Buffer> {
  const config = useConfig()
  if (config.SETTINGS_ENCRYPTION_KEY) return Buffer.from(config.SETTINGS_ENCRYPTION_KEY, 'utf8')
  const file = join(config.DATA_DIR, 'settings-key')
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim()
  if (existing.length >= 32) return Buffer.from(existing, 'utf8')
  const generated = randomBytes(32).toString('base64url')
  await mkdir(config.DATA_DIR, { recursive: true })
  await writeFile(file, generated, { mode: 0o600 })
  return Buffer.from(generated, 'utf8')
}

/** A 32-byte key for one purpose, derived from the master key, so no two uses share a key. */
async function keyFor(purpose: string): Promise<Buffer> {
  masterPromise ??= loadMaster()
  return Buffer.from(hkdfSync('sha256', await masterPromise, 'helpdesk', purpose, 32))
}

/** AES-256-GCM; the stored form is `v1.<iv>.<tag>.<ciphertext>` in base64url. */
export async function encryptSecret(plain: string): Promise<string> {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', await keyFor('settings-secrets'), iv)
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return ['v1', iv, cipher.getAuthTag(), body].map(p => (typeof p === 'string' ? p : p.toString('base64url'))).join('.')
}

export async function decryptSecret(stored: string): Promise<string> {
  const [version, iv, tag, body] = stored.split('.')
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown secret format')
  const decipher = createDecipheriv('aes-256-gcm', await keyFor('settings-secrets'), Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
}

/** Signs a short message (e.g. an upload URL of the local store); verify with `verifySigned`. */
export async function sign(purpose: string, message: string): Promise<string> {
  return createHmac('sha256', await keyFor(purpose)).update(message).digest('base64url')
}

export async function verifySigned(purpose: string, message: string, signature: string): Promise<boolean> {
  const expected = Buffer.from(await sign(purpose, message))
  const given = Buffer.from(signature)
  return expected.length === given.length && timingSafeEqual(expected, given)
}
