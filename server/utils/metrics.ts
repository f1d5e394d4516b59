import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Every metric the server exports, in one registry served at /metrics. */
export const registry = new Registry()
collectDefaultMetrics({ register: registry })
// prom-client names these gauges `…_total`, which Prometheus reserves for counters (promtool
// refuses them); the handle and request counts are debugging aids we can do without.
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name)

export const httpRequests = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests answered, by route template, method and status code.',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [registry],
})

export const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time from the first middleware to the end of the response, by route template and method.',
  labelNames: ['route', 'method'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
})

export type AuthFailureReason
  = | 'malformed' | 'algorithm' | 'unknown_kid' | 'signature' | 'expired' | 'not_yet_valid'
    | 'issuer' | 'audience' | 'claims' | 'not_access_token' | 'inactive_user' | 'jwks_unavailable' | 'bad_credentials'

export const authFailures = new Counter({
  name: 'auth_failures_total',
  help: 'Refused credentials, by reason (bearer token checks and password sign-in).',
  labelNames: ['reason'] as const,
  registers: [registry],
})

export const rateLimitRejections = new Counter({
  name: 'rate_limit_rejections_total',
  help: 'Requests answered 429, by limited route (login, tickets, attachments).',
  labelNames: ['route'] as const,
  registers: [registry],
})

export const jwksRefreshes = new Counter({
  name: 'jwks_refreshes_total',
  help: 'Fetches of the identity provider\'s signing keys, by trigger (first use, background, unknown kid) and result.',
  labelNames: ['trigger', 'result'] as const,
  registers: [registry],
})

export const dbPoolMax = new Gauge({
  name: 'db_pool_max_connections',
  help: 'Configured maximum of PostgreSQL connections (DATABASE_POOL_SIZE); postgres.js does not expose how many are open.',
  registers: [registry],
})

export const dbInFlight = new Gauge({
  name: 'db_client_in_flight',
  help: 'Database statements and transactions awaiting their result, counted around the postgres.js client.',
  registers: [registry],
})

export const dependencyUp = new Gauge({
  name: 'helpdesk_dependency_up',
  help: 'Result of the last readiness check per dependency (db, redis, storage): 1 ok, 0 failing; absent when not configured.',
  labelNames: ['check'] as const,
  registers: [registry],
})

export const dependencyFailures = new Counter({
  name: 'helpdesk_dependency_failures_total',
  help: 'Requests answered 503 because a dependency (database, redis, storage, identity provider, mail relay) failed or timed out.',
  labelNames: ['dependency'] as const,
  registers: [registry],
})

export const rateLimitLocalFallbacks = new Counter({
  name: 'rate_limit_local_fallback_total',
  help: 'Rate-limited requests counted by this process alone because Redis was unreachable, by limited route.',
  labelNames: ['route'] as const,
  registers: [registry],
})
