// Live updates (issue #12), measured in one run against the built app (production mode):
//   a. delivery: 200 SSE subscribers of one ticket (`/api/live?ticket=N`), BENCH_LIVE_CHANGES
//      public replies posted one at a time; per subscriber, the time from the reply's commit (a
//      deferred trigger the bench adds to its database stamps it) to the event's arrival. Once with
//      the in-process bus, once through Redis pub/sub (REDIS_URL; skipped when Redis does not answer).
//   b. 1,000 idle queue streams (`/api/live`): the app's RSS before and after, per connection.
//   c. the ticket page's initial JavaScript against the first release (the commit before @nuxt/ui),
//      both builds measured now from their client manifests (raw and gzip).
// Budgets: p95 ≤ 100 ms, RSS < 300 MB with 1,000 streams, initial JS ≤ 1.5× the first release.
//   BENCH_LIVE_SUBSCRIBERS (200), BENCH_LIVE_IDLE (1000), BENCH_LIVE_CHANGES (30),
//   BENCH_REBUILD=1 builds the baseline again (cached under /tmp), BENCH_LIVE_SKIP=delivery,idle,bundle.
import { Agent, request } from 'node:http'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createJiti } from 'jiti'
import Redis from 'ioredis'
import postgres from 'postgres'
import { initialJs } from './bundle.mjs'

const SUBSCRIBERS = Number(process.env.BENCH_LIVE_SUBSCRIBERS ?? 200)
const IDLE = Number(process.env.BENCH_LIVE_IDLE ?? 1000)
const CHANGES = Number(process.env.BENCH_LIVE_CHANGES ?? 30)
const SESSIONS_PER_AGENT = 10
const skip = new Set((process.env.BENCH_LIVE_SKIP ?? '').split(',').filter(Boolean))
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

const here = p => fileURLToPath(new URL(p, import.meta.url))
const jiti = createJiti(import.meta.url, { alias: { '#server': here('../server'), '#shared': here('../shared') } })
const { freePort, startApp } = await jiti.import('../test/fixtures/app.ts')
const { Client, signedInAdmin, userClient } = await jiti.import('../test/fixtures/client.ts')

const pct = (xs, p) => xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] : NaN
const ms = x => `${x.toFixed(1)} ms`
const rssMb = pid => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024
const sleep = t => new Promise(r => setTimeout(r, t))
const results = []
const budget = (name, value, limit, unit, ok = value <= limit) => {
  results.push({ name, value: Number(value.toFixed(3)), limit, unit, pass: ok })
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${name}: ${value.toFixed(unit === '×' ? 2 : 1)} ${unit} (budget ${unit === 'MB' ? '<' : '≤'} ${limit} ${unit})`)
}

/**
 * One SSE stream over node:http, read as EventSource does: frames end at a blank line, `:`
 * lines are comments. `onEvent({ id, type, data, at, wall })` gets each event with the time its
 * bytes were read (performance.now() and the wall clock).
 */
function openStream({ port, path, cookie, agent, onEvent }) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        return reject(new Error(`${path}: ${res.statusCode}`))
      }
      res.setEncoding('utf8')
      let buffer = ''
      let opened = false
      res.on('data', (chunk) => {
        const at = performance.now()
        const wall = Date.now()
        buffer += chunk
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          let type = 'message'
          let data = ''
          let id
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim()
            else if (line.startsWith('data:')) data += line.slice(5).trimStart()
            else if (line.startsWith('id:')) id = line.slice(3).trim()
          }
          if (data) onEvent?.({ id, type, data: JSON.parse(data), at, wall })
        }
        // The first frame (`retry:`) means the server has registered the subscriber.
        if (!opened) {
          opened = true
          resolve({ close: () => req.destroy() })
        }
      })
      res.on('error', () => {})
    })
    req.on('error', error => (error.code === 'ECONNRESET' ? undefined : reject(error)))
    req.end()
  })
}

/** Opens `count` streams, at most 50 handshakes at a time. */
async function openMany(count, make) {
  const streams = []
  let next = 0
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < count) streams.push(await make(next++))
  }))
  return streams
}

async function pass(mode) {
  const port = await freePort()
  const prefix = `helpdesk-bench-${randomBytes(4).toString('hex')}`
  const env = {
    NODE_ENV: 'production', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, RATE_LIMIT_LOGIN: 'off', RATE_LIMIT_TICKETS: 'off',
    // Both modes run their jobs in the app, so nothing is left queued in Redis for a worker.
    ...(mode === 'redis' ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, JOBS_IN_PROCESS: 'true' } : {}),
  }
  const app = await startApp(env)
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity })
  let streams = []
  const out = { mode }
  try {
    const admin = await signedInAdmin(app.url)
    const requester = await userClient(admin, 'requester')
    const writer = await userClient(admin, 'agent', { name: 'Bench writer' })
    const ticket = (await requester.post('/api/tickets', { title: 'Printer offline on floor 2', body: 'It shows "offline" since this morning.' })).body
    // Subscribers: agents (who see every ticket), SESSIONS_PER_AGENT sessions each; no limit on sessions per user.
    const cookies = []
    const agents = Math.ceil(SUBSCRIBERS / SESSIONS_PER_AGENT)
    for (let a = 0; a < agents; a++) {
      const first = await userClient(admin, 'agent')
      cookies.push(first.cookie)
      for (let s = 1; s < SESSIONS_PER_AGENT && cookies.length < SUBSCRIBERS; s++) cookies.push((await new Client(app.url).signIn(first.user.email, 'a-long-test-password')).cookie)
    }
    const rssIdleApp = rssMb(app.pid)
    // The scripts the rendered ticket page loads (module script and modulepreload links): a check of c.
    const page = await new Client(app.url).fetch(`/tickets/${ticket.number}`, { headers: { cookie: cookies[0] } })
    const html = await page.text()
    out.pageScripts = page.status === 200 ? [...new Set([...html.matchAll(/<(?:link rel="modulepreload"[^>]*href|script[^>]*src)="\/_nuxt\/([^"]+\.js)"/g)].map(m => m[1]))] : []

    if (!skip.has('delivery')) {
      // --- a. delivery to SUBSCRIBERS streams of one ticket ---------------------------------------
      const arrivals = new Map() // comment id → the subscribers' receipts
      streams = await openMany(SUBSCRIBERS, i => openStream({
        port, agent, path: `/api/live?ticket=${ticket.number}`, cookie: cookies[i],
        onEvent: (e) => {
          if (e.type !== 'comment') return
          let list = arrivals.get(e.data.comment.id)
          if (!list) arrivals.set(e.data.comment.id, (list = []))
          list.push(e)
        },
      }))
      // The commit's time: a deferred trigger of the benchmark's own (not the product's) runs as the
      // reply's transaction commits and writes clock_timestamp() (this machine's clock) aside; the
      // commit ends after it (WAL flush), so "commit → event" is, if anything, a little longer than it is.
      // (The API response is no reference: a reply is answered only after its events were published.)
      const owner = postgres(app.ownerDatabaseUrl, { max: 1, onnotice: () => {} })
      await owner.unsafe(`create table bench_commits (comment_id text primary key, at double precision not null);
        create function bench_comment_committed() returns trigger language plpgsql security definer set search_path = public as $$
          begin insert into bench_commits values (new.id::text, extract(epoch from clock_timestamp()) * 1000); return null; end $$;
        create constraint trigger bench_comment_committed after insert on comments deferrable initially deferred
          for each row execute function bench_comment_committed()`)
      await sleep(500)
      const sample = { commit: [], publish: [], response: [], request: [] }
      const worst = []
      for (let i = -3; i < CHANGES; i++) {
        const sent = performance.now()
        const res = await writer.post(`/api/tickets/${ticket.number}/comments`, { body: `Update ${i}: the technician is on the way.` })
        const answered = performance.now()
        if (res.status !== 201) throw new Error(`reply: ${res.status} ${JSON.stringify(res.body)}`)
        const deadline = answered + 5000
        while ((arrivals.get(res.body.id)?.length ?? 0) < SUBSCRIBERS && performance.now() < deadline) await sleep(2)
        const got = arrivals.get(res.body.id) ?? []
        if (got.length < SUBSCRIBERS) throw new Error(`change ${i}: ${got.length} of ${SUBSCRIBERS} subscribers heard it within 5 s`)
        if (i < 0) continue // warm-up
        const [row] = await owner`select at from bench_commits where comment_id = ${res.body.id}`
        if (!row) throw new Error(`change ${i}: no commit time`)
        for (const e of got) {
          sample.commit.push(e.wall - row.at)
          // The event id is its publish time in ms (this machine's clock, in either bus).
          sample.publish.push(e.wall - Number(e.id.split('-')[0]))
          sample.response.push(e.at - answered)
          sample.request.push(e.at - sent)
        }
        worst.push(Math.max(...got.map(e => e.wall)) - row.at)
        await sleep(50)
      }
      await owner.end()
      const stats = xs => ({ p50: pct(xs, 0.5), p95: pct(xs, 0.95), max: Math.max(...xs) })
      out.delivery = {
        subscribers: SUBSCRIBERS, changes: CHANGES, samples: sample.commit.length,
        commit: stats(sample.commit), publish: stats(sample.publish), response: stats(sample.response), request: stats(sample.request),
        beforeResponse: sample.response.filter(x => x < 0).length, lastSubscriber: stats(worst),
      }
      for (const s of streams) s.close()
      streams = []
    }

    if (!skip.has('idle')) {
      // --- b. IDLE queue streams, memory -----------------------------------------------------------
      await sleep(1500)
      const before = rssMb(app.pid)
      const t0 = performance.now()
      streams = await openMany(IDLE, i => openStream({ port, agent, path: '/api/live', cookie: cookies[i % cookies.length] }))
      const openedIn = performance.now() - t0
      await sleep(2000)
      const after = rssMb(app.pid)
      out.idle = { streams: streams.length, before, after, perConnectionKb: (after - before) * 1024 / streams.length, openedInMs: openedIn, rssIdleApp }
      for (const s of streams) s.close()
      streams = []
    }
  }
  finally {
    for (const s of streams) s.close()
    agent.destroy()
    await app.stop()
    if (mode === 'redis') {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
      await redis.connect().catch(() => {})
      const keys = await redis.keys(`${prefix}:*`).catch(() => [])
      if (keys.length) await redis.del(...keys)
      redis.disconnect()
    }
  }
  return out
}

const redisUp = async () => {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  }
  catch {
    return false
  }
  finally {
    redis.disconnect()
  }
}

const passes = []
if (!skip.has('delivery') || !skip.has('idle')) {
  passes.push(await pass('memory'))
  if (await redisUp()) passes.push(await pass('redis'))
  else console.log(`\nRedis does not answer at ${redisUrl}: the pub/sub pass is skipped`)
}

let bundle
if (!skip.has('bundle')) bundle = await initialJs()

console.log(`\nLive updates (issue #12), built app in production mode, loopback`)
for (const p of passes) {
  const bus = p.mode === 'redis' ? 'Redis pub/sub' : 'in-process bus'
  if (p.delivery) {
    const d = p.delivery
    console.log(`\n  a. delivery, ${bus}: ${d.subscribers} subscribers of one ticket, ${d.changes} public replies one at a time (${d.samples} deliveries)`)
    const line = (label, x) => console.log(`     ${label.padEnd(58)} p50 ${ms(x.p50).padStart(9)}  p95 ${ms(x.p95).padStart(9)}  max ${ms(x.max).padStart(9)}`)
    line('commit → event', d.commit)
    line('commit → the last of the subscribers, per change', d.lastSubscriber)
    line('publish (event id, ms) → event', d.publish)
    line('request sent → event', d.request)
    line('API response → event (negative: before the response)', d.response)
    console.log(`     ${d.beforeResponse} of ${d.samples} events arrived before the reply's API response (a reply answers only after publishing its events)`)
    budget(`delivery p95 (commit → event), ${bus}`, d.commit.p95, 100, 'ms')
  }
  if (p.idle) {
    const i = p.idle
    console.log(`\n  b. ${i.streams} idle queue streams, ${bus}: opened in ${ms(i.openedInMs)}; app RSS ${i.before.toFixed(1)} MB before → ${i.after.toFixed(1)} MB after, ${i.perConnectionKb.toFixed(1)} KB per connection (RSS after sign-ins, before any stream: ${i.rssIdleApp.toFixed(1)} MB)`)
    budget(`RSS with ${i.streams} streams, ${bus}`, i.after, 300, 'MB', i.after < 300)
  }
}
if (bundle) {
  const line = (label, b) => `     ${label.padEnd(34)} ${String(b.files.length).padStart(3)} files ${(b.raw / 1024).toFixed(1).padStart(8)} KB raw ${(b.gzip / 1024).toFixed(1).padStart(7)} KB gzip`
  console.log(`\n  c. the ticket page's initial JavaScript (${bundle.page}: entry, layout, page and their static imports)`)
  console.log(line(`first release ${bundle.baseline.commit.slice(0, 7)}`, bundle.baseline))
  console.log(line(`this build ${bundle.current.commit.slice(0, 7)}${bundle.current.dirty ? ' + changes' : ''}`, bundle.current))
  const rendered = passes[0]?.pageScripts
  if (rendered?.length) {
    const missing = rendered.filter(f => !bundle.current.files.includes(f))
    const extra = bundle.current.files.filter(f => !rendered.includes(f))
    console.log(`     check: the rendered ticket page loads ${rendered.length} scripts; ${missing.length} not counted here, ${extra.length} counted but not in the page${missing.length || extra.length ? ` (${[...missing.map(f => `-${f}`), ...extra.map(f => `+${f}`)].join(' ')})` : ''}`)
  }
  console.log(`     ratio raw ${(bundle.current.raw / bundle.baseline.raw).toFixed(2)}×, gzip ${(bundle.current.gzip / bundle.baseline.gzip).toFixed(2)}×`)
  budget('initial JS, gzip, ÷ first release', bundle.current.gzip / bundle.baseline.gzip, 1.5, '×')
  budget('initial JS, raw, ÷ first release', bundle.current.raw / bundle.baseline.raw, 1.5, '×')
}
const summary = {
  bench: 'live',
  passes,
  bundle: bundle && { page: bundle.page, baseline: { commit: bundle.baseline.commit, raw: bundle.baseline.raw, gzip: bundle.baseline.gzip, files: bundle.baseline.files.length }, current: { commit: bundle.current.commit, dirty: bundle.current.dirty, raw: bundle.current.raw, gzip: bundle.current.gzip, files: bundle.current.files.length } },
  budgets: results,
  pass: results.every(r => r.pass),
}
console.log(`\n${JSON.stringify(summary)}`)
if (!summary.pass) process.exitCode = 1
