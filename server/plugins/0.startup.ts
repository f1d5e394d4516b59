import type { H3Event } from 'h3'
import { closeDb, rowSecurityBypass, useDb } from '#server/db/client'
import { resolvePrincipal } from '#server/services/auth/resolve'
import { listenForUserChanges, stopListeningForUserChanges } from '#server/services/auth/revocation'
import { closeSessionStore, mountSessionStore } from '#server/services/auth/session-store'
import { ensureFirstAdmin } from '#server/services/users'
import { ConfigError, embeddedDefaults, mailNotice, publicUrl, useConfig, workerUrl } from '#server/utils/config'
import type { Config } from '#server/utils/config'
import { loggablePath, useLogger } from '#server/utils/logger'
import { httpDuration, httpRequests } from '#server/utils/metrics'
import { usePrincipalResolver } from '#server/utils/principal'
import { closeRedis } from '#server/utils/redis'

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

export default defineNitroPlugin((nitroApp) => {
  const config = checkedConfig()
  const log = useLogger()
  const defaults = embeddedDefaults(config)
  if (defaults.length) log.warn({ defaults }, `using embedded defaults: ${defaults.join('; ')}`)
  mountSessionStore(config)
  usePrincipalResolver(resolvePrincipal)
  listenForUserChanges()

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
      const admin = await ensureFirstAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD, { mayGenerate: !config.production })
      const credentials = admin.password
        ? `\n  Sign in as ${config.ADMIN_EMAIL} with password ${admin.password}\n  (shown once; set ADMIN_PASSWORD to choose it)`
        : admin.created ? `\n  Sign in as ${config.ADMIN_EMAIL} with the password from ADMIN_PASSWORD` : ''
      console.log(`\n  Helpdesk is running at ${url}${credentials}${mailNotice(config)}\n`)
    })
    .catch((error: Error) => {
      log.fatal({ err: error }, `Helpdesk cannot start: ${error.message}`)
      process.exit(1)
    })

  // Pages learn the sign-in mode from the request's runtime config, set as each page renders.
  nitroApp.hooks.hook('render:route', (_route, { event }) => {
    useRuntimeConfig(event).public.authMode = config.AUTH_MODE
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
        path: loggablePath(event.path),
        status,
        ms: Math.round(seconds * 10_000) / 10,
      }, 'request')
    })
  })
  nitroApp.hooks.hook('error', (error, { event }) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500
    if (status < 500) return
    log.error({ err: error, reqId: event?.context.requestId, route: event && routeOf(event) }, 'request failed')
    // Logged once, above, without secrets: Nitro's default handler would print it again with the
    // full URL (share tokens) and the database error's parameters. The answer still says only "Server Error".
    const h3 = error as { unhandled?: boolean, message: string }
    if (event && h3.unhandled) Object.assign(h3, { unhandled: false, message: 'Server Error' })
  })
  nitroApp.hooks.hook('close', async () => {
    await Promise.all([closeDb(), closeRedis(), closeSessionStore(), stopListeningForUserChanges()])
  })
})
