import { tracingChannel } from 'node:diagnostics_channel'
import { Server } from 'node:http'
import { Server as NetServer } from 'node:net'
import type { Socket } from 'node:net'
import type { ServerResponse } from 'node:http'
import { useConfig } from '../utils/config'
import { useLogger } from '../utils/logger'
import { isDraining, startDraining } from '../utils/shutdown'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/**
 * SIGTERM (or SIGINT) without losing a request:
 * 1. readiness answers 503 at once and every response closes its connection, while requests are
 *    still accepted and answered for SHUTDOWN_DRAIN_MS (default 5 s in production) — time for
 *    the orchestrator to take the replica out and for a proxy's idle keep-alive connections to
 *    time out on its side, so none is closed under a request it is sending;
 * 2. the listener closes: a proxy's next connection is refused and it tries another replica. A
 *    connection accepted just before still gets its request answered: its request may be on its
 *    way, and Node's own server.close() would close it as idle, which a proxy that sent a POST on
 *    it cannot retry (nginx answered 502);
 * 3. requests in flight get SHUTDOWN_GRACE_MS to finish, then remaining connections are cut;
 * 4. the `close` hook closes the database pool, Redis and queues; the process exits.
 * Replaces Nitro's own handler, which closes the listener at once (switched off in nuxt.config.ts).
 */
export default defineNitroPlugin((nitroApp) => {
  if (import.meta.dev) return
  const log = useLogger()
  let server: Server | undefined
  const inFlight = new Set<ServerResponse>()
  // Connections that have not carried a request yet.
  const fresh = new Set<Socket>()

  // The Node preset creates and starts the server after the plugins ran: catch it as it listens.
  const listening = tracingChannel<unknown, { server?: unknown }>('net.server.listen')
  const watch = {
    start: () => {},
    end: () => {},
    asyncStart: (message: { server?: unknown }) => {
      if (server || !(message.server instanceof Server)) return
      server = message.server
      server.on('connection', (socket: Socket) => {
        fresh.add(socket)
        socket.once('close', () => fresh.delete(socket))
      })
      server.on('request', (req, res) => {
        fresh.delete(req.socket)
        inFlight.add(res)
        if (isDraining() && !res.headersSent) res.setHeader('connection', 'close')
        res.once('close', () => inFlight.delete(res))
      })
      listening.unsubscribe(watch)
    },
    asyncEnd: () => {},
    error: () => {},
  }
  listening.subscribe(watch)

  async function shutdown(signal: string) {
    const config = useConfig()
    const drainMs = config.SHUTDOWN_DRAIN_MS ?? (config.production ? 5000 : 0)
    startDraining()
    // Answers already being prepared close their connection too, instead of handing it back idle.
    for (const res of inFlight) {
      if (!res.headersSent) res.setHeader('connection', 'close')
    }
    log.info({ signal, drainMs, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down: readiness fails, requests are still answered')
    await sleep(drainMs)
    // Stops listening only (net's close, not http's, which also closes idle connections).
    if (server) NetServer.prototype.close.call(server)
    const closedAt = Date.now()
    const deadline = closedAt + config.SHUTDOWN_GRACE_MS
    // A proxy sends its request as soon as it has connected: a second is plenty for it to arrive.
    const awaited = () => inFlight.size > 0 || (fresh.size > 0 && Date.now() < closedAt + 1000)
    while (awaited() && Date.now() < deadline) await sleep(50)
    if (inFlight.size > 0) log.warn({ inFlight: inFlight.size }, 'shutdown grace period over: cutting the remaining requests')
    server?.closeAllConnections()
    await Promise.race([nitroApp.hooks.callHook('close'), sleep(5000)])
      .catch((error: Error) => log.error({ err: error }, `shutdown: ${error.message}`))
    log.info('stopped')
    process.exit(0)
  }

  let stopping = false
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return
      stopping = true
      void shutdown(signal)
    })
  }
})
