import type { H3Event } from 'h3'
import { createError, setResponseHeader } from 'h3'
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import type { RateLimitSetting } from './config'
import { useConfig } from './config'
import { rateLimitRejections } from './metrics'
import { sharedRateLimiter, useRedis } from './redis'

/** What is limited, and what the key is: `login` per client IP, `password_reset` per IP and per address, `mail_inbound` per sender address, the others per user. */
export type RateLimitedRoute = 'login' | 'tickets' | 'attachments' | 'password_reset' | 'mail_inbound'

const settings: Record<RateLimitedRoute, () => RateLimitSetting | null> = {
  login: () => useConfig().RATE_LIMIT_LOGIN,
  tickets: () => useConfig().RATE_LIMIT_TICKETS,
  attachments: () => useConfig().RATE_LIMIT_ATTACHMENTS,
  password_reset: () => useConfig().RATE_LIMIT_PASSWORD_RESET,
  mail_inbound: () => useConfig().MAIL_INBOUND_RATE,
}

const limiters = new Map<RateLimitedRoute, RateLimiterAbstract | null>()

function limiterFor(route: RateLimitedRoute): RateLimiterAbstract | null {
  if (limiters.has(route)) return limiters.get(route)!
  const setting = settings[route]()
  let limiter: RateLimiterAbstract | null = null
  if (setting) {
    const options = { points: setting.points, duration: setting.seconds, keyPrefix: `${useConfig().REDIS_KEY_PREFIX}:rl:${route}` }
    const redis = useRedis()
    // With Redis every replica counts together; while Redis is away each process counts alone
    // (the insurance limiter) rather than letting everything through or refusing everyone.
    limiter = redis
      ? sharedRateLimiter(route, options, redis)
      : new RateLimiterMemory(options)
  }
  limiters.set(route, limiter)
  return limiter
}

/**
 * Counts one request against `route`'s limit for `key` (a client IP or a user id) and throws
 * 429 with Retry-After once the limit is used up.
 */
export async function rateLimit(event: H3Event, route: RateLimitedRoute, key: string): Promise<void> {
  const limiter = limiterFor(route)
  if (!limiter) return
  try {
    await limiter.consume(key)
  }
  catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection
    rateLimitRejections.inc({ route })
    setResponseHeader(event, 'Retry-After', Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)))
    throw createError({ statusCode: 429, statusMessage: 'Too Many Requests', message: 'Too many requests; try again later.' })
  }
}

/** Counts one use of `route` for `key` outside a request (e.g. a ticket opened by mail); false once the limit is used up. */
export async function withinRateLimit(route: RateLimitedRoute, key: string): Promise<boolean> {
  const limiter = limiterFor(route)
  if (!limiter) return true
  try {
    await limiter.consume(key)
    return true
  }
  catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection
    rateLimitRejections.inc({ route })
    return false
  }
}
