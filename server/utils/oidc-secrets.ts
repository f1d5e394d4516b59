import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from './config'
import { oidcSecrets } from './config'

type Secrets = Record<(typeof oidcSecrets)[number], string>

/**
 * nuxt-oidc-auth reads its three secrets from the environment on each use. Production refuses
 * to start without them (parseConfig); in development missing ones are generated once and kept
 * in the data directory, so a restart does not sign everyone out. Runs before the first request.
 */
export function provideOidcSecrets(config: Config): void {
  const missing = oidcSecrets.filter(name => !config[name])
  if (!missing.length) return
  const file = join(config.DATA_DIR, 'oidc-secrets.json')
  let stored: Partial<Secrets> = {}
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>
  }
  catch { /* first start: generate below */ }
  const secrets: Secrets = {
    NUXT_OIDC_SESSION_SECRET: stored.NUXT_OIDC_SESSION_SECRET ?? randomBytes(48).toString('base64url'),
    NUXT_OIDC_TOKEN_KEY: stored.NUXT_OIDC_TOKEN_KEY ?? randomBytes(32).toString('base64'),
    NUXT_OIDC_AUTH_SESSION_SECRET: stored.NUXT_OIDC_AUTH_SESSION_SECRET ?? randomBytes(48).toString('base64url'),
  }
  mkdirSync(config.DATA_DIR, { recursive: true })
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 })
  for (const name of missing) process.env[name] = secrets[name]
}
