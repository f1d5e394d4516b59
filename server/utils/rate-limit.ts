import type { H3Event } from 'h3'
import { createError, setResponseHeader } from 'h3'
import { useConfig } from './config'

/**
 * The seam for rate limits. This in-memory fixed window counts per process; the hardening issue
 * replaces `createLimiter` with rate-limiter-flexible on Redis, and callers stay as they are.
 */
export interface RateLimiter {
  /** Counts one attempt for `key`; says whether it is allowed and, if not, when to try again. */
  consume(key: string): Promise<{ allowed: boolean, retryAfterSeconds: number }>
}

export interface RateLimit {
  /** Names the limit (and its counters), e.g. `attachments`. */
  name: string
  points: number
  durationSeconds: number
}

function createLimiter({ points, durationSeconds }: RateLimit): RateLimiter {
  const windows = new Map<string, { startedAt: number, used: number }>()
  return {
    async consume(key) {
      const now = Date.now()
      const windowMs = durationSeconds * 1000
      if (windows.size > 10_000) {
        for (const [k, w] of windows) if (now - w.startedAt >= windowMs) windows.delete(k)
      }
      let window = windows.get(key)
      if (!window || now - window.startedAt >= windowMs) {
        window = { startedAt: now, used: 0 }
        windows.set(key, window)
      }
      window.used++
      const allowed = window.used <= points
      return { allowed, retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((window.startedAt + windowMs - now) / 1000)) }
    },
  }
}

const limiters = new Map<string, RateLimiter>()

/** Counts the request against `limit` for `key` (usually the user id); 429 with Retry-After when spent. */
export async function enforceRateLimit(event: H3Event, limit: RateLimit, key: string): Promise<void> {
  const id = `${limit.name}:${limit.points}/${limit.durationSeconds}`
  let limiter = limiters.get(id)
  if (!limiter) limiters.set(id, (limiter = createLimiter(limit)))
  const { allowed, retryAfterSeconds } = await limiter.consume(key)
  if (allowed) return
  setResponseHeader(event, 'Retry-After', retryAfterSeconds)
  throw createError({ statusCode: 429, statusMessage: 'Too Many Requests', message: `Too many requests; try again in ${retryAfterSeconds} seconds.` })
}

/** Presigned and direct uploads: RATE_LIMIT_ATTACHMENTS per user per minute. */
export function attachmentRateLimit(): RateLimit {
  return { name: 'attachments', points: useConfig().RATE_LIMIT_ATTACHMENTS, durationSeconds: 60 }
}
