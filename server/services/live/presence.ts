import { and } from 'drizzle-orm'
import { tickets } from '#server/db/schema'
import { useConfig } from '#server/utils/config'
import type { Principal } from '#server/utils/principal'
import { useRedis } from '#server/utils/redis'
import { ticketKey, ticketNotFound } from '#server/services/tickets'
import { asPrincipal, ticketVisibility } from '#server/services/visibility'
import { announcePresence } from './events'

export const presenceStates = ['viewing', 'typing', 'left'] as const
export type PresenceState = (typeof presenceStates)[number]
export interface Viewer { id: string, name: string, state: 'viewing' | 'typing', until: string }

/** A heartbeat keeps someone present; a page that stops sending fades out after this. */
export const PRESENCE_TTL_SECONDS = 30

// Without Redis (one process): ticket id → user id → viewer.
const memory = new Map<string, Map<string, Viewer>>()

const keys = (ticketId: string) => {
  const base = `${useConfig().REDIS_KEY_PREFIX}:presence:${ticketId}`
  return { until: `${base}:until`, info: `${base}:info` }
}

async function store(ticketId: string, userId: string, viewer: Viewer | null): Promise<Viewer[]> {
  const now = Date.now()
  const redis = useRedis()
  if (!redis) {
    let viewers = memory.get(ticketId)
    if (!viewers) memory.set(ticketId, (viewers = new Map()))
    if (viewer) viewers.set(userId, viewer)
    else viewers.delete(userId)
    for (const [id, v] of viewers) if (Date.parse(v.until) <= now) viewers.delete(id)
    if (!viewers.size) memory.delete(ticketId)
    return [...viewers.values()]
  }
  // A sorted set of who is here until when, and a hash of what they are doing; both keys expire with the last heartbeat.
  const { until, info } = keys(ticketId)
  const tx = redis.multi()
  if (viewer) tx.zadd(until, Date.parse(viewer.until), userId).hset(info, userId, JSON.stringify(viewer))
  else tx.zrem(until, userId).hdel(info, userId)
  tx.zremrangebyscore(until, '-inf', now).expire(until, PRESENCE_TTL_SECONDS).expire(info, PRESENCE_TTL_SECONDS).zrange(until, 0, -1)
  const results = await tx.exec()
  const present = (results?.at(-1)?.[1] ?? []) as string[]
  if (!present.length) return []
  const values = await redis.hmget(info, ...present)
  return values.filter((v): v is string => !!v).map(v => JSON.parse(v) as Viewer)
}

/** Who is viewing or typing on a ticket now. */
export async function presenceOf(ticketId: string): Promise<Viewer[]> {
  const redis = useRedis()
  if (!redis) return [...(memory.get(ticketId)?.values() ?? [])].filter(v => Date.parse(v.until) > Date.now())
  const { until, info } = keys(ticketId)
  const present = await redis.zrangebyscore(until, Date.now(), '+inf')
  if (!present.length) return []
  const values = await redis.hmget(info, ...present)
  return values.filter((v): v is string => !!v).map(v => JSON.parse(v) as Viewer)
}

/** A heartbeat from a ticket page (404 when the caller cannot see the ticket); everyone following the ticket hears who is there. */
export async function touchPresence(principal: Principal, id: string, state: PresenceState): Promise<void> {
  const [ticket] = await asPrincipal(principal, tx => tx.select({ id: tickets.id, number: tickets.number, requesterId: tickets.requesterId, assigneeId: tickets.assigneeId, orgId: tickets.orgId })
    .from(tickets).where(and(ticketKey(id), ticketVisibility(principal))))
  if (!ticket) throw ticketNotFound()
  const viewer = state === 'left' ? null : { id: principal.userId, name: principal.name, state, until: new Date(Date.now() + PRESENCE_TTL_SECONDS * 1000).toISOString() }
  const viewers = await store(ticket.id, principal.userId, viewer)
  await announcePresence(ticket, viewers, principal.userId)
}
