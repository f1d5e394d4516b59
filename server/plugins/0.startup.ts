import type { H3Event } from 'h3'
import { closeDb, rowSecurityBypass, useDb } from '../db/client'
import { ensureFirstAdmin } from '../services/users'
import { ConfigError, embeddedDefaults, mailNotice, publicUrl, secureCookies, useConfig, workerUrl } from '../utils/config'
import type { Config } from '../utils/config'
import { useLogger } from '../utils/logger'
import { provideOidcSecrets } from '../utils/oidc-secrets'
import { closeSessionStore, mountSessionStore } from '../utils/session-store'
import { httpDuration, httpRequests } from '../utils/metrics'
import { closeRedis } from '../utils/redis'

/**
 * Start-up: check the configuration (fail fast, naming the variable), prepare sign-in, connect
 * and migrate the database, make sure a fresh installation has an admin, and say where to open the app.
 */
function checkedConfig(): Config {
  try {
    return useConfig()
  }
  catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`Helpdesk cannot start: ${error.message}`)
    process.exit(1)
  }
}

/** The route template (`/api/tickets/:id`), so metrics and logs group requests, not ids. */
function routeOf(event: H3Event): string {
  const matched = event.context.matchedRoute?.path
  if (matched) return matched
  return event.path.startsWith('/_nuxt/') ? '/_nuxt/**' : 'unmatched'
}

// Paths that carry a secret of their own (share links).
const secretPath = /^(\/s\/)[^/?]+/

export default defineNitroPlugin((nitroApp) => {
  const config = checkedConfig()
  const log = useLogger()
  const defaults = embeddedDefaults(config)
  if (defaults.length) log.warn({ defaults }, `using embedded defaults: ${defaults.join('; ')}`)
  mountSessionStore(config)
  if (config.AUTH_MODE === 'oidc') prepareOidc(config)

  const url = publicUrl(config)
  useDb()
    .then(rowSecurityBypass)
    .then(async (bypass) => {
      if (bypass && bypass !== 'embedded') {
        const message = `the database role "${bypass}" (DATABASE_URL) bypasses row-level security; connect as a role without SUPERUSER/BYPASSRLS and migrate with DATABASE_MIGRATION_URL (see docs/database.md)`
        if (config.production && !config.DATABASE_ALLOW_RLS_BYPASS) throw new Error(message)
        log.warn(message)
      }
      log.info('database ready')
      if (config.PROCESS_ROLE === 'worker') return console.log(`\n  Helpdesk worker is running (health at ${workerUrl(config)}/health)${mailNotice(config)}\n`)
      if (config.AUTH_MODE === 'oidc') return console.log(`\n  Helpdesk is running at ${url}\n  Sign in through ${config.OIDC_ISSUER}${mailNotice(config)}\n`)
      const admin = await ensureFirstAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD)
      const credentials = admin.password
        ? `\n  Sign in as ${config.ADMIN_EMAIL} with password ${admin.password}\n  (shown once; set ADMIN_PASSWORD to choose it)`
        : admin.created ? `\n  Sign in as ${config.ADMIN_EMAIL} with the password from ADMIN_PASSWORD` : ''
      console.log(`\n  Helpdesk is running at ${url}${credentials}${mailNotice(config)}\n`)
    })
    .catch((error: Error) => {
      log.fatal({ err: error }, `database unavailable: ${error.message}`)
      process.exit(1)
    })

  // Counted when the response is finished, so errors answered by the error handler count too.
  nitroApp.hooks.hook('request', (event) => {
    const started = performance.now()
    event.node.res.once('finish', () => {
      const seconds = (performance.now() - started) / 1000
      const route = routeOf(event)
      const status = event.node.res.statusCode
      httpRequests.inc({ route, method: event.method, status })
      httpDuration.observe({ route, method: event.method }, seconds)
      log.info({
        reqId: event.context.requestId,
        userId: event.context.userId,
        method: event.method,
        route,
        path: event.path.split('?')[0]!.replace(secretPath, '$1[redacted]'),
        status,
        ms: Math.round(seconds * 10_000) / 10,
      }, 'request')
    })
  })
  nitroApp.hooks.hook('error', (error, { event }) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500
    if (status >= 500) log.error({ err: error, reqId: event?.context.requestId, route: event && routeOf(event) }, 'request failed')
  })
  nitroApp.hooks.hook('close', async () => {
    await Promise.all([closeDb(), closeRedis(), closeSessionStore()])
  })
})

/**
 * nuxt-oidc-auth and the pages read parts of their configuration from NUXT_* variables
 * (runtime config, read per request): derive them from the app's own settings.
 */
function prepareOidc(config: Config) {
  provideOidcSecrets(config)
  process.env.NUXT_PUBLIC_AUTH_MODE = 'oidc'
  process.env.NUXT_OIDC_SESSION_MAX_AGE = String(config.SESSION_MAX_AGE)
  process.env.NUXT_OIDC_SESSION_COOKIE_SECURE = String(secureCookies(config))
}
