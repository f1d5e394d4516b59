import pino from 'pino'
import pretty from 'pino-pretty'
import { useConfig } from './config'

// Credentials never reach the log, wherever they sit in a logged object (up to three levels down).
const secretKeys = [
  'password', 'authorization', 'cookie', 'set-cookie', 'token', 'secret',
  'accessToken', 'refreshToken', 'idToken', 'access_token', 'refresh_token', 'id_token', 'client_secret',
]
const redact = {
  paths: secretKeys.flatMap(k => [`["${k}"]`, `*["${k}"]`, `*.*["${k}"]`, `*.*.*["${k}"]`]),
  censor: '[redacted]',
}

/**
 * Paths whose next segment is a secret: share links (the page and the API it calls), signed local
 * upload grants, password-reset and unsubscribe links. deploy/nginx keeps the same list.
 */
export const secretPathPrefixes = ['/s/', '/api/share/', '/api/uploads/', '/reset/', '/api/unsubscribe/']
const secretPath = new RegExp(`^(${secretPathPrefixes.map(p => p.replace(/[/]/g, '\\/')).join('|')})[^/]+`)

/** A request path as it may be logged: no query string, and no secret segment. */
export function loggablePath(path: string): string {
  return path.split('?')[0]!.replace(secretPath, '$1[redacted]')
}

interface DatabaseError { code: string, message: string }

/** The database error behind `error` (postgres.js, possibly wrapped by drizzle or h3), if any. */
function databaseErrorOf(error: unknown): DatabaseError | null {
  for (let e = error as { code?: unknown, severity?: unknown, query?: unknown, cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && typeof e.severity === 'string') {
      const message = String((e as { message?: unknown }).message)
      // Data exceptions (class 22) quote the offending value: keep the words before it.
      return { code: e.code, message: e.code.startsWith('22') ? message.split('"')[0]!.replace(/[\s:]+$/, '') : message }
    }
    if (e.query !== undefined && !e.cause) return { code: 'unknown', message: 'database query failed' }
  }
  return null
}

/**
 * Errors as logged: a database error by its code and message only — never the statement or its
 * parameters (password hashes, ticket and note text); anything else as pino logs errors.
 */
export function serializeError(error: unknown) {
  const database = databaseErrorOf(error)
  if (database) return { type: 'DatabaseError', ...database }
  return pino.stdSerializers.err(error as Error)
}

function createLogger() {
  const config = useConfig()
  const options = { level: config.LOG_LEVEL, redact, base: undefined, serializers: { err: serializeError } }
  // JSON lines in production; readable lines while developing.
  return (config.LOG_FORMAT ?? (config.production ? 'json' : 'pretty')) === 'json'
    ? pino(options)
    : pino(options, pretty({ colorize: !!process.stdout.isTTY, ignore: 'pid,hostname', sync: true }))
}

let logger: pino.Logger | undefined

export function useLogger(): pino.Logger {
  logger ??= createLogger()
  return logger
}
