/**
 * Failures of the services Helpdesk depends on, told apart from bugs. Each client marks its
 * outages (`DependencyUnavailable`) where it talks to the service; one Nitro error hook
 * (server/plugins/0.dependency-errors.ts) answers them 503 with the message below, so no
 * handler maps errors itself and an outage never reads as "not signed in" or "not found".
 */
export type Dependency = 'database' | 'redis' | 'storage' | 'identity provider' | 'mail relay'

export const unavailableMessages: Record<Dependency, string> = {
  'database': 'The database is not answering. Nothing was changed; try again in a moment.',
  'redis': 'The session store is not answering. Try again in a moment.',
  'storage': 'The file store is not answering. Try again in a moment.',
  'identity provider': 'The sign-in service is unavailable. Try again in a moment.',
  'mail relay': 'The mail relay is not answering. Try again in a moment.',
}

/**
 * Carries what an HTTP error needs (status, message, `data.dependency`): h3 copies those when it
 * wraps an error a handler threw, but not the error itself.
 */
export class DependencyUnavailable extends Error {
  readonly statusCode = 503
  readonly statusMessage = 'Service Unavailable'
  readonly data: { dependency: Dependency }
  constructor(readonly dependency: Dependency, options?: { cause?: unknown }) {
    super(unavailableMessages[dependency], options)
    this.name = 'DependencyUnavailable'
    this.data = { dependency }
  }
}

const causes = function* (error: unknown) {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e as { [key: string]: unknown }
}

/** Which dependency an error (or one of its causes) says is unavailable; null for any other error. */
export function unavailableDependency(error: unknown): Dependency | null {
  for (const e of causes(error)) {
    if (e instanceof DependencyUnavailable) return e.dependency
    const dependency = (e.data as { dependency?: unknown } | undefined)?.dependency
    if (e.statusCode === 503 && typeof dependency === 'string' && dependency in unavailableMessages) return dependency as Dependency
  }
  return null
}

/** An outage of any kind: a marked dependency failure, or an error already answered 503 where it arose. */
export function isOutage(error: unknown): boolean {
  return unavailableDependency(error) !== null || (error as { statusCode?: unknown } | null)?.statusCode === 503
}

// Socket-level failures: the peer refused, vanished or never answered.
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
// postgres.js's own connection errors.
const postgresConnectionCodes = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'])
// SQLSTATEs of an unavailable server: connection exceptions (08…), shutdown / recovery (57P0…),
// too many connections; 57014 is a statement cancelled by statement_timeout (DB_TIMEOUT_MS).
const postgresOutageStates = /^(08...|57P0.|53300|57014)$/

/** A PostgreSQL error that means the database is unreachable or too slow, not that the query was wrong. */
export function isDatabaseOutage(error: unknown): boolean {
  for (const e of causes(error)) {
    if (e instanceof DependencyUnavailable) return e.dependency === 'database'
    const code = typeof e.code === 'string' ? e.code : ''
    if (networkCodes.has(code) || postgresConnectionCodes.has(code) || postgresOutageStates.test(code)) return true
  }
  return false
}

/**
 * Rejects with DependencyUnavailable when `work` takes longer than `ms` (and calls `onTimeout`,
 * e.g. to abort it). The timer does not keep the process alive.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, dependency: Dependency, onTimeout?: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.()
      reject(new DependencyUnavailable(dependency, { cause: new Error(`no answer within ${ms} ms`) }))
    }, ms)
    timer.unref?.()
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}
