import { describe, expect, it } from 'vitest'
import { reconnectBackoff } from '../../server/db/client'

describe('reconnecting to the database after an outage', () => {
  it('tries again soon enough that a request waiting DB_TIMEOUT_MS is served once the database is back', () => {
    for (const timeoutMs of [1500, 5000, 30_000]) {
      const backoff = reconnectBackoff(timeoutMs)
      const waits = Array.from({ length: 40 }, (_, retries) => backoff(retries))
      // After any number of failures (the pool shares one count), the next attempt comes within a fifth of the timeout, and never later than a second.
      expect(Math.max(...waits)).toBeLessThanOrEqual(Math.min(1, timeoutMs / 5000))
      expect(waits[0]).toBeGreaterThan(0)
      expect(waits).toEqual([...waits].sort((a, b) => a - b))
    }
  })
})
