// Ticket lists and search at scale, over HTTP against the built server, with row-level security
// on (two database roles, as in production). Prints p50/p95 per case and the ratios the design
// budgets: page one p95 ≤ 25 ms, deep pages ≤ 1.2 × page one, selective search p95 ≤ 20 ms.
// BENCH_TICKETS (default 200000; the budget is stated for 1000000), BENCH_SAMPLES per case.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'

const TICKETS = Number(process.env.BENCH_TICKETS ?? 200_000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200)
const ORGS = 20
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

const name = `helpdesk_bench_${randomBytes(4).toString('hex')}`
const server = postgres(adminUrl, { max: 1, onnotice: () => {} })
await server.unsafe(`create database ${name}`)
await server.unsafe(`create role ${name}_app login`)
const ownerUrl = new URL(adminUrl)
ownerUrl.pathname = `/${name}`
const appUrl = new URL(ownerUrl)
appUrl.username = `${name}_app`

const dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-bench-'))
const port = 20_000 + Math.floor(Math.random() * 20_000)
const adminPassword = randomBytes(12).toString('hex')
const app = spawn(process.execPath, ['.output/server/index.mjs'], {
  env: {
    PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir,
    DATABASE_URL: appUrl.toString(), DATABASE_MIGRATION_URL: ownerUrl.toString(), PUBLIC_URL: `http://127.0.0.1:${port}`,
    AUTH_LOCAL_SECRET: randomBytes(32).toString('hex'), SETTINGS_ENCRYPTION_KEY: randomBytes(32).toString('hex'), ADMIN_EMAIL: 'admin@bench.test', ADMIN_PASSWORD: adminPassword,
    LOG_LEVEL: 'warn', RATE_LIMIT_LOGIN: 'off',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
})
const base = `http://127.0.0.1:${port}`

let agent
async function cleanup() {
  agent?.destroy()
  app.kill('SIGTERM')
  await new Promise(r => app.once('exit', r))
  await server.unsafe(`drop database if exists ${name} with (force)`)
  await server.unsafe(`drop role if exists ${name}_app`)
  await server.end()
  await rm(dataDir, { recursive: true, force: true })
}

try {
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${base}/readyz`).then(r => r.ok, () => false)) break
    await new Promise(r => setTimeout(r, 200))
  }

  // --- people, signed in through the API --------------------------------------------------------
  const signIn = async (email, password) => {
    const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'origin': base }, body: JSON.stringify({ email, password }) })
    if (!res.ok) throw new Error(`sign-in ${email}: ${res.status}`)
    return res.headers.getSetCookie().find(c => c.startsWith('hd_auth=')).split(';')[0]
  }
  // The first admin is created just after the database is ready.
  let adminCookie
  for (let i = 0; !adminCookie; i++) adminCookie = await signIn('admin@bench.test', adminPassword).catch(e => (i < 50 ? new Promise(r => setTimeout(r, 200)) : Promise.reject(e)))
  const createUser = async (email, role, orgs) => {
    const res = await fetch(`${base}/api/admin/users`, { method: 'POST', headers: { 'content-type': 'application/json', 'origin': base, 'cookie': adminCookie }, body: JSON.stringify({ email, name: email, password: 'bench-password-123', role, orgs }) })
    if (res.status !== 201) throw new Error(`user ${email}: ${res.status}`)
    return (await res.json()).id
  }
  await createUser('agent@bench.test', 'agent', ['org-3'])
  const requesterId = await createUser('requester@bench.test', 'requester', ['org-3'])

  // --- tickets, seeded in SQL by the owner --------------------------------------------------------
  const owner = postgres(ownerUrl.toString(), { max: 1, onnotice: () => {} })
  const started = performance.now()
  await owner`insert into orgs (slug, name) select 'org-' || g, 'Org ' || g from generate_series(0, ${ORGS - 1}) g on conflict do nothing`
  await owner`insert into users (email, name) select 'r' || g || '@bench.test', 'Requester ' || g from generate_series(1, 2000) g`
  await owner`insert into user_orgs (user_id, org_id) select u.id, o.id from users u join orgs o on o.slug = 'org-' || (abs(hashtext(u.email)) % ${ORGS}) where u.email like 'r%@bench.test'`
  await owner.unsafe(`
    with people as (select array_agg(u.id order by u.email) as ids, array_agg(uo.org_id order by u.email) as orgs from users u join user_orgs uo on uo.user_id = u.id where u.email like 'r%@bench.test'),
    words as (select array['printer','vpn','laptop','password','email','invoice','monitor','network','badge','license','keyboard','access','backup','calendar','phone','server','wifi','meeting','report','export'] as w)
    insert into tickets (title, body, status, priority, requester_id, org_id, created_at, updated_at)
    select w[1 + g % 20] || ' ' || w[1 + (g / 20) % 20] || ' issue ' || g,
           'Since yesterday the ' || w[1 + (g / 7) % 20] || ' does not work with the ' || w[1 + (g / 3) % 20] || case when g % 10000 = 0 then ' quasar' else '' end,
           (array['new','open','pending','resolved','closed'])[1 + g % 5]::ticket_status,
           (array['low','normal','high','urgent'])[1 + g % 4]::ticket_priority,
           ids[1 + g % 2000], orgs[1 + g % 2000],
           now() - make_interval(secs => ${TICKETS} - g), now() - make_interval(secs => ${TICKETS} - g)
    from generate_series(1, ${TICKETS}) g, people, words`)
  await owner`insert into tickets (title, body, requester_id, org_id) select 'My own ticket ' || g, 'mine', ${requesterId}, o.id from generate_series(1, 50) g, orgs o where o.slug = 'org-3'`
  await owner`analyze`
  const [{ count }] = await owner`select count(*)::int from tickets`
  await owner.end()
  console.log(`seeded ${count} tickets in ${((performance.now() - started) / 1000).toFixed(1)} s`)

  const cookies = { admin: adminCookie, agent: await signIn('agent@bench.test', 'bench-password-123'), requester: await signIn('requester@bench.test', 'bench-password-123') }
  agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const get = (path, cookie) => new Promise((resolve, reject) => {
    const t0 = performance.now()
    request({ host: '127.0.0.1', port, path, headers: { cookie }, agent }, (res) => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => res.statusCode === 200 ? resolve({ ms: performance.now() - t0, body: Buffer.concat(chunks).toString() }) : reject(new Error(`${path}: ${res.statusCode}`)))
    }).on('error', reject).end()
  })
  const cursorAt = number => Buffer.from(JSON.stringify([number])).toString('base64url')
  const [{ number: newest }] = JSON.parse((await get('/api/tickets?limit=1', cookies.admin)).body).data
  const deep = cursorAt(newest - Math.floor(TICKETS * 0.9))

  const cases = [
    ['admin, page one', '/api/tickets?limit=25', 'admin'],
    ['admin, deep page (90% down)', `/api/tickets?limit=25&cursor=${deep}`, 'admin'],
    ['agent of one org, page one', '/api/tickets?limit=25', 'agent'],
    ['agent of one org, deep page', `/api/tickets?limit=25&cursor=${deep}`, 'agent'],
    ['agent, active statuses', '/api/tickets?limit=25&status=new,open,pending', 'agent'],
    ['requester, own tickets', '/api/tickets?limit=25', 'requester'],
    ['search, selective term (admin)', '/api/tickets?limit=25&q=quasar', 'admin'],
    ['search, selective term (agent)', '/api/tickets?limit=25&q=quasar', 'agent'],
    ['search, common term (agent)', '/api/tickets?limit=25&q=printer', 'agent'],
  ]
  const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]
  const results = new Map()
  // Interleaved rounds, so every case sees the same machine conditions.
  const samples = new Map(cases.map(([label]) => [label, []]))
  for (const [, path, who] of cases) for (let i = 0; i < 10; i++) await get(path, cookies[who])
  for (let round = 0; round < SAMPLES; round++) {
    for (const [label, path, who] of cases) samples.get(label).push((await get(path, cookies[who])).ms)
  }
  console.log(`\n${'case'.padEnd(34)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}`)
  for (const [label] of cases) {
    const xs = samples.get(label)
    results.set(label, { p50: pct(xs, 0.5), p95: pct(xs, 0.95) })
    console.log(`${label.padEnd(34)} ${pct(xs, 0.5).toFixed(2).padStart(8)} ${pct(xs, 0.95).toFixed(2).padStart(8)}`)
  }
  const r = label => results.get(label).p95
  console.log(`\nratios (p95, same run; ${TICKETS} tickets, ${SAMPLES} samples per case):`)
  console.log(`  admin deep / page one   ${(r('admin, deep page (90% down)') / r('admin, page one')).toFixed(2)}   (budget ≤ 1.2)`)
  console.log(`  agent deep / page one   ${(r('agent of one org, deep page') / r('agent of one org, page one')).toFixed(2)}   (budget ≤ 1.2)`)
  console.log(`  page one p95 / 25 ms    ${(Math.max(r('admin, page one'), r('agent of one org, page one')) / 25).toFixed(2)}   (budget ≤ 1)`)
  console.log(`  search p95 / 20 ms      ${(Math.max(r('search, selective term (admin)'), r('search, selective term (agent)')) / 20).toFixed(2)}   (budget ≤ 1)`)
}
finally {
  await cleanup()
}
