import type Redis from 'ioredis'
import { useConfig } from '#server/utils/config'
import { useLogger } from '#server/utils/logger'
import { useRedis } from '#server/utils/redis'
import type { LiveEnvelope } from './types'

/**
 * The fan-out of live events. With Redis every event is appended to a capped stream (for
 * `Last-Event-ID` resumes, on any replica) and published on a channel in one atomic script, so
 * every replica hears it once; without Redis the same happens in this process's memory.
 * Event ids are the stream's `<ms>-<n>` ids, in the same form in both modes.
 */
export interface LiveBus {
  publish: (event: Omit<LiveEnvelope, 'id'>) => Promise<void>
  /** Events after `id`, oldest first (at most the retained history). */
  since: (id: string) => Promise<LiveEnvelope[]>
  close: () => Promise<void>
}

type Listener = (event: LiveEnvelope) => void
const listeners = new Set<Listener>()

/** Called for every event of every replica, in order. */
export function onLiveEvent(listener: Listener): () => void {
  // Listening is what makes a replica subscribe to the others' events.
  useLiveBus()
  listeners.add(listener)
  return () => listeners.delete(listener)
}

function dispatch(event: LiveEnvelope) {
  for (const listener of listeners) {
    try {
      listener(event)
    }
    catch (error) {
      useLogger().error({ err: error }, 'a live event listener failed')
    }
  }
}

/** Kept for resumes: enough for a reconnect after a short outage, small in memory. */
const HISTORY = 2000

const isEventId = (id: string) => /^\d{1,15}-\d{1,15}$/.test(id)
export function compareEventIds(a: string, b: string): number {
  const [am, an] = a.split('-').map(Number) as [number, number]
  const [bm, bn] = b.split('-').map(Number) as [number, number]
  return am - bm || an - bn
}

function memoryBus(): LiveBus {
  const history: LiveEnvelope[] = []
  let lastMs = 0
  let n = 0
  return {
    async publish(event) {
      const now = Date.now()
      if (now > lastMs) {
        lastMs = now
        n = 0
      }
      else n++
      const full = { ...event, id: `${lastMs}-${n}` } as LiveEnvelope
      history.push(full)
      if (history.length > HISTORY) history.splice(0, history.length - HISTORY)
      dispatch(full)
    },
    async since(id) {
      if (!isEventId(id)) return []
      return history.filter(e => compareEventIds(e.id, id) > 0)
    },
    async close() {},
  }
}

// XADD and PUBLISH together: the id a subscriber hears is the id a resume will find.
const publishScript = `local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
return id`

function redisBus(redis: Redis): LiveBus {
  const prefix = useConfig().REDIS_KEY_PREFIX
  const stream = `${prefix}:live:stream`
  const channel = `${prefix}:live`
  const subscriber = redis.duplicate()
  subscriber.on('error', () => { /* ioredis reconnects and subscribes again */ })
  void subscriber.subscribe(channel).catch((error: Error) => useLogger().error({ err: error }, 'live events: could not subscribe'))
  subscriber.on('message', (_channel: string, message: string) => {
    const at = message.indexOf(' ')
    try {
      dispatch({ ...JSON.parse(message.slice(at + 1)), id: message.slice(0, at) })
    }
    catch (error) {
      useLogger().error({ err: error }, 'live events: unreadable message')
    }
  })
  return {
    async publish(event) {
      await redis.eval(publishScript, 2, stream, channel, JSON.stringify(event), String(HISTORY))
    },
    async since(id) {
      if (!isEventId(id)) return []
      const entries = await redis.xrange(stream, `(${id}`, '+', 'COUNT', HISTORY)
      return entries.map(([entryId, fields]) => ({ ...JSON.parse(fields[1]!), id: entryId }))
    },
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect())
    },
  }
}

let bus: LiveBus | undefined
export function useLiveBus(): LiveBus {
  if (bus) return bus
  const redis = useRedis()
  bus = redis ? redisBus(redis) : memoryBus()
  return bus
}
