import { setResponseHeader } from 'h3'
import { unavailableDependency, unavailableMessages } from '../utils/dependencies'
import { dependencyFailures } from '../utils/metrics'

/**
 * The one place where a failed dependency becomes an answer: whatever handler or middleware it
 * surfaced in, the caller gets 503 with a short message saying what is unavailable and when to
 * try again (never a 500 with a stack, a 401 that signs people out, or a hang).
 * Runs before the error handler renders the error (the `error` hook is called first).
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('error', (error, { event }) => {
    const dependency = unavailableDependency(error)
    if (!dependency) return
    const mapped = error as Error & { statusCode?: number, statusMessage?: string, unhandled?: boolean, fatal?: boolean, data?: unknown }
    mapped.statusCode = 503
    mapped.statusMessage = 'Service Unavailable'
    mapped.message = unavailableMessages[dependency]
    mapped.unhandled = false
    mapped.fatal = false
    mapped.data = { dependency }
    dependencyFailures.inc({ dependency })
    if (event && !event.node.res.headersSent) setResponseHeader(event, 'Retry-After', 5)
  })
})
