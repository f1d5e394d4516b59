import type { ServerResponse } from 'node:http'
import type { H3Event } from 'h3'
import { useConfig } from '#server/utils/config'
import { getPrincipal } from '#server/utils/principal'
import type { Principal } from '#server/utils/principal'
import { compareEventIds, onLiveEvent, useLiveBus } from './bus'
import { frameFor } from './events'
import type { LiveEnvelope } from './types'

/** One open `/api/live` stream: the caller, what it follows, and its response. */
interface Subscriber {
  event: H3Event
  principal: Principal
  /** One ticket's id, or null for the caller's whole queue. */
  ticketId: string | null
  res: ServerResponse
  /** While a resume replays history, live events wait here. */
  waiting: LiveEnvelope[] | null
  checkedAt: number
}

const byTicket = new Map<string, Set<Subscriber>>()
const queueSubscribers = new Set<Subscriber>()
let stopListening: (() => void) | null = null
let heartbeat: NodeJS.Timeout | null = null

/** Count of open streams, for the metrics and the benchmark. */
export function liveConnectionCount(): number {
  let n = queueSubscribers.size
  for (const set of byTicket.values()) n += set.size
  return n
}

// A client that stopped reading is dropped (it resumes with Last-Event-ID) instead of buffering without end.
const MAX_BUFFERED_BYTES = 1024 * 1024

function send(sub: Subscriber, event: LiveEnvelope) {
  if (sub.waiting) return void sub.waiting.push(event)
  const text = frameFor(sub.principal, event)
  if (!text) return
  if (sub.res.writableLength > MAX_BUFFERED_BYTES) return void sub.res.destroy()
  sub.res.write(text)
}

function deliver(event: LiveEnvelope) {
  const followers = byTicket.get(event.ticket.id)
  if (followers) for (const sub of followers) send(sub, event)
  // Presence belongs to the ticket page, not to the queue.
  if (event.type !== 'presence') for (const sub of queueSubscribers) send(sub, event)
}

function everyone(): Subscriber[] {
  return [...queueSubscribers, ...[...byTicket.values()].flatMap(set => [...set])]
}

/**
 * Comments (`:`) keep proxies and load balancers from closing idle streams. The caller is
 * looked up again now and then, so a deactivated or revoked user's stream ends and a changed
 * role or organisation applies.
 */
function beat() {
  const now = Date.now()
  for (const sub of everyone()) {
    sub.res.write(': keep-alive\n\n')
    if (now - sub.checkedAt < 60_000) continue
    sub.checkedAt = now
    sub.event.context.principal = undefined
    getPrincipal(sub.event).then((principal) => {
      if (principal) sub.principal = principal
      else sub.res.end()
    }, () => { /* an outage is not a sign-out: keep the stream */ })
  }
}

function add(sub: Subscriber) {
  if (!stopListening) stopListening = onLiveEvent(deliver)
  if (!heartbeat) heartbeat = setInterval(beat, useConfig().LIVE_HEARTBEAT_SECONDS * 1000).unref()
  if (!sub.ticketId) return void queueSubscribers.add(sub)
  let set = byTicket.get(sub.ticketId)
  if (!set) byTicket.set(sub.ticketId, (set = new Set()))
  set.add(sub)
}

function remove(sub: Subscriber) {
  if (!sub.ticketId) queueSubscribers.delete(sub)
  else {
    const set = byTicket.get(sub.ticketId)
    set?.delete(sub)
    if (set && !set.size) byTicket.delete(sub.ticketId)
  }
  if (!liveConnectionCount() && heartbeat) {
    clearInterval(heartbeat)
    heartbeat = null
  }
}

/**
 * Serves an SSE stream until the client goes away. With `lastEventId` the events missed since
 * then are replayed first (filtered like live ones), and live events arriving meanwhile follow
 * in order without duplicates. `first` frames (e.g. who is on the ticket now) open the stream.
 */
export async function openLiveStream(event: H3Event, principal: Principal, ticketId: string | null, lastEventId: string | undefined, first: string[] = []): Promise<void> {
  const res = event.node.res
  res.socket?.setNoDelay(true)
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'connection': 'keep-alive',
    // nginx: pass events through as they come.
    'x-accel-buffering': 'no',
  })
  res.write(`retry: 3000\n\n${first.join('')}`)
  const sub: Subscriber = { event, principal, ticketId, res, waiting: lastEventId ? [] : null, checkedAt: Date.now() }
  const closed = new Promise<void>(resolve => res.once('close', resolve))
  add(sub)
  if (lastEventId) {
    let last = lastEventId
    try {
      const missed = await useLiveBus().since(lastEventId)
      for (const e of missed) {
        if (ticketId && e.ticket.id !== ticketId) continue
        if (!ticketId && e.type === 'presence') continue
        const text = frameFor(sub.principal, e)
        if (text) res.write(text)
        last = e.id
      }
    }
    finally {
      const waiting = sub.waiting ?? []
      sub.waiting = null
      for (const e of waiting) if (compareEventIds(e.id, last) > 0) send(sub, e)
    }
  }
  await closed
  remove(sub)
}
