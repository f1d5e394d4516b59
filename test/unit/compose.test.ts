/**
 * deploy/compose.yaml with deploy/.env.compose.example, as `docker compose --env-file` reads them
 * (no Docker here): every variable set, the app's resolved settings accepted by production's
 * start-up check, every file it mounts present, and the stack's shape the issue asks for.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../server/utils/config'
// @ts-expect-error a plain ES module script without types
import { parseEnvFile, resolveCompose } from '../../scripts/check-compose-env.mjs'

const composePath = 'deploy/compose.yaml'
const examplePath = 'deploy/.env.compose.example'
const exampleText = readFileSync(examplePath, 'utf8')

function check(envText: string, name = 'test.env') {
  const dir = mkdtempSync(join(tmpdir(), 'helpdesk-compose-'))
  try {
    const file = join(dir, name)
    writeFileSync(file, envText)
    return spawnSync(process.execPath, ['scripts/check-compose-env.mjs', file], { encoding: 'utf8' })
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const compose: any = resolveCompose(readFileSync(composePath, 'utf8'), parseEnvFile(exampleText))
const services: Record<string, any> = compose.services
const environment = (service: string) => Object.fromEntries(Object.entries(services[service].environment).map(([k, v]) => [k, String(v ?? '')]))

describe('deploy/compose.yaml with the committed example', () => {
  it('sets every variable the compose file uses (the CI check passes)', () => {
    const result = spawnSync(process.execPath, ['scripts/check-compose-env.mjs'], { encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })

  it('names a variable that is missing, empty where required, or unused', () => {
    const missing = check(exampleText.replace(/^SETTINGS_ENCRYPTION_KEY=.*$/m, ''), 'x.env.example')
    expect(missing.status).toBe(1)
    expect(missing.stderr).toMatch(/SETTINGS_ENCRYPTION_KEY \(compose line \d+\) is not set/)
    const empty = check(exampleText.replace(/^REDIS_PASSWORD=.*$/m, 'REDIS_PASSWORD='), 'x.env.example')
    expect(empty.stderr).toMatch(/REDIS_PASSWORD .* must not be empty/)
    const unused = check(`${exampleText}\nSTRAY_SETTING=1\n`, 'x.env.example')
    expect(unused.stderr).toMatch(/STRAY_SETTING is set in the env file but deploy\/compose.yaml never reads it/)
  })

  it('refuses the placeholders in a real env file, and accepts one with generated values', () => {
    const placeholders = check(exampleText, '.env')
    expect(placeholders.status).toBe(1)
    expect(placeholders.stderr).toMatch(/SETTINGS_ENCRYPTION_KEY still has its placeholder value/)
    expect(placeholders.stderr).toMatch(/NUXT_OIDC_TOKEN_KEY still has its placeholder value/)
    let n = 0
    const generated = exampleText.replace(/^([A-Z0-9_]+)=(.*change-?me.*)$/gm, (_, key: string) => `${key}=generated-${(n++).toString().padStart(2, '0')}-${'x'.repeat(48)}`)
      .replace(/^NUXT_OIDC_TOKEN_KEY=.*$/m, `NUXT_OIDC_TOKEN_KEY=${Buffer.alloc(32, 7).toString('base64')}`)
    const real = check(generated, '.env')
    expect(real.stderr).toBe('')
    expect(real.status).toBe(0)
  })

  it('gives the app and the worker settings that production accepts', () => {
    for (const service of ['app', 'worker', 'migrate']) {
      const config = parseConfig(environment(service))
      expect(config.production, service).toBe(true)
      expect(config.REDIS_URL, service).toMatch(/^redis:\/\/:.+@redis:6379/)
      expect(config.STORAGE_BACKEND).toBe('s3')
      expect(config.S3_FORCE_PATH_STYLE).toBe(true)
    }
    // Two roles: the owner migrates, the app's own role is bound by row-level security.
    const app = environment('app')
    expect(new URL(app.DATABASE_URL!).username).toBe('helpdesk_app')
    expect(new URL(app.DATABASE_MIGRATION_URL!).username).toBe(services.postgres.environment.POSTGRES_USER)
  })

  it('runs two app replicas and the worker behind the gateway, migrations once before them', () => {
    expect(services.app.deploy.replicas).toBe(2)
    expect(environment('app').REPLICAS).toBe('2')
    expect(services.worker.command).toEqual(['node', 'scripts/worker.mjs'])
    expect(services.worker.healthcheck.test.join(' ')).toMatch(/127\.0\.0\.1:8081\/ready/)
    expect(services.migrate.command).toEqual(['node', 'scripts/migrate.mjs'])
    for (const service of ['app', 'worker']) {
      expect(services[service].depends_on.migrate.condition).toBe('service_completed_successfully')
    }
    expect(services.app.depends_on['garage-init'].condition).toBe('service_completed_successfully')
    expect(services.gateway.environment.HELPDESK_UPSTREAM).toBe('app:3000')
    expect(services.gateway.ports.length).toBe(2)
    // No Helpdesk service is published past the gateway.
    for (const name of ['app', 'worker', 'postgres', 'redis', 'garage', 'authentik-server']) expect(services[name].ports, name).toBeUndefined()
  })

  it('gives PostgreSQL the shared buffers and cache size of the env file, not its 128 MB default', () => {
    const command = services.postgres.command.join(' ')
    expect(command).toMatch(/^postgres /)
    expect(command).toContain('-c shared_buffers=1GB')
    expect(command).toContain('-c effective_cache_size=2GB')
  })

  it('keeps Redis durable with AOF and behind a password', () => {
    const command = services.redis.command.join(' ')
    expect(command).toMatch(/--appendonly yes/)
    expect(command).toMatch(/--requirepass \S+/)
  })

  it('sets Garage up path-style with a one-shot bucket, key and CORS rule for the public origin', () => {
    expect(environment('app').S3_ENDPOINT).toBe(`https://${services.gateway.environment.S3_SERVER_NAME}`)
    expect(services['garage-init'].command).toEqual(['node', 'deploy/garage/init.mjs'])
    expect(services['garage-init'].environment.CORS_ORIGIN).toBe(environment('app').PUBLIC_URL)
    expect(services['garage-init'].environment.S3_ACCESS_KEY_ID).toBe(environment('app').S3_ACCESS_KEY_ID)
    expect(readFileSync('deploy/garage/init.mjs', 'utf8')).toMatch(/PutBucketCorsCommand/)
    expect(readFileSync('deploy/garage/garage.toml', 'utf8')).toMatch(/s3_region = "garage"/)
    expect(environment('app').S3_REGION).toBe('garage')
  })

  it('mounts our blueprints into the Authentik worker as real files, with the app\'s client', () => {
    expect(services['authentik-worker'].volumes).toContain('../blueprints:/blueprints/custom/helpdesk:ro')
    const authentik = services['authentik-worker'].environment
    expect(authentik.HELPDESK_APP_URL).toBe(environment('app').PUBLIC_URL)
    expect(authentik.HELPDESK_OIDC_CLIENT_SECRET).toBe(environment('app').OIDC_CLIENT_SECRET)
    expect(environment('app').OIDC_ISSUER).toBe(`https://${services.gateway.environment.AUTHENTIK_SERVER_NAME}/application/o/helpdesk/`)
  })

  it('mounts only files that exist in the repository', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = String(volume).split(':')[0]!
        if (!source.startsWith('.')) continue
        if (source === environment('app').TLS_DIR || source === './tls') continue
        // Files mounted into the image (e.g. deploy/garage/init.mjs) must also exist.
        expect(existsSync(resolve(dirname(composePath), source)), `${name}: ${source}`).toBe(true)
      }
    }
    expect(services.postgres.volumes).toContain('./postgres:/docker-entrypoint-initdb.d:ro')
    expect(readFileSync('deploy/postgres/20-authentik.sh', 'utf8')).toMatch(/CREATE DATABASE authentik/)
  })
})
