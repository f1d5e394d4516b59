// Outgoing mail (issue #11): the added cost of a reply that notifies its requester, as a ratio to
// the same reply on an identical ticket whose requester turned notifications off, side by side in
// one run against the built app (production mode, jobs in process) with a real SMTP relay on
// loopback (test/fixtures/smtp.ts: STARTTLS, AUTH). Replies alternate between the two tickets
// (ABBA order), one at a time; each POST /api/tickets/:id/comments is timed. The time until the
// notification reaches the relay is printed as information (MAIL_REPLY_HOLD_SECONDS=0 here).
//   BENCH_MAIL_REPLIES per ticket (default 200). The brief names no number for the ratio: it is
//   printed as measured; BENCH_MAIL_RATIO=<n> compares p50 and p95 against ≤ n (PASS/FAIL).
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createJiti } from 'jiti'

const REPLIES = Number(process.env.BENCH_MAIL_REPLIES ?? 200)
const RATIO = process.env.BENCH_MAIL_RATIO ? Number(process.env.BENCH_MAIL_RATIO) : undefined
const here = p => fileURLToPath(new URL(p, import.meta.url))
const jiti = createJiti(import.meta.url, { alias: { '#server': here('../server'), '#shared': here('../shared') } })
const { freePort, startApp } = await jiti.import('../test/fixtures/app.ts')
const { signedInAdmin, userClient } = await jiti.import('../test/fixtures/client.ts')
const { startSmtp } = await jiti.import('../test/fixtures/smtp.ts')

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]
const sleep = t => new Promise(r => setTimeout(r, t))

const smtp = await startSmtp()
const port = await freePort()
const app = await startApp({
  ...smtp.env, MAIL_REPLY_HOLD_SECONDS: '0',
  NODE_ENV: 'production', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, RATE_LIMIT_LOGIN: 'off', RATE_LIMIT_TICKETS: 'off',
})
try {
  const admin = await signedInAdmin(app.url)
  const agent = await userClient(admin, 'agent', { name: 'Bench agent' })
  const notified = await userClient(admin, 'requester', { name: 'Notified requester' })
  const quiet = await userClient(admin, 'requester', { name: 'Quiet requester' })
  const off = await quiet.request('PUT', '/api/me/notifications', { email: false, events: { ticket_created: true, reply: true, resolved: true, assigned: true } })
  if (off.status !== 200 || off.body.email !== false) throw new Error(`notifications off: ${off.status} ${JSON.stringify(off.body)}`)

  const open = async client => (await client.post('/api/tickets', { title: 'The printer on floor 2 is offline', body: 'It shows "offline" since this morning.' })).body
  const tickets = { with: await open(notified), without: await open(quiet) }
  // The new tickets' own mails (receipt, staff) go out first.
  await sleep(1000)
  const baseline = smtp.received.length

  const token = randomBytes(4).toString('hex')
  const times = { with: [], without: [] }
  const sentAt = new Map() // marker → response time, for replies that notify
  const reply = async (kind, i) => {
    const marker = `bench-${token}-${kind}-${i}`
    const t0 = performance.now()
    const res = await agent.post(`/api/tickets/${tickets[kind].number}/comments`, { body: `We are on it (${marker}). The technician comes at ten.` })
    const t1 = performance.now()
    if (res.status !== 201) throw new Error(`reply: ${res.status} ${JSON.stringify(res.body)}`)
    if (i >= 0) times[kind].push(t1 - t0)
    if (kind === 'with' && i >= 0) sentAt.set(marker, t1)
  }
  // Warm-up, then ABBA rounds so both kinds see the same machine state and order.
  for (let i = -10; i < 0; i++) {
    await reply('with', i)
    await reply('without', i)
  }
  for (let i = 0; i < REPLIES; i++) {
    const order = i % 2 ? ['without', 'with'] : ['with', 'without']
    for (const kind of order) await reply(kind, i)
  }
  // Every notifying reply (warm-up included) mails the requester once; the quiet ticket none.
  await smtp.waitFor(baseline + REPLIES + 10, 120_000)
  await sleep(500)
  const mailed = smtp.received.slice(baseline)
  const delays = []
  for (const mail of mailed) {
    const marker = /bench-\w+-with-\d+/.exec(mail.parsed.text ?? '')?.[0]
    if (marker && sentAt.has(marker)) delays.push(mail.receivedAt - sentAt.get(marker))
  }
  const toQuiet = smtp.to(quiet.user.email).length
  if (delays.length !== REPLIES) throw new Error(`matched ${delays.length} of ${REPLIES} notification mails`)

  const w = { p50: pct(times.with, 0.5), p95: pct(times.with, 0.95) }
  const wo = { p50: pct(times.without, 0.5), p95: pct(times.without, 0.95) }
  const ratio = { p50: w.p50 / wo.p50, p95: w.p95 / wo.p95 }
  const mail = { p50: pct(delays, 0.5), p95: pct(delays, 0.95), max: Math.max(...delays) }
  const budgets = RATIO === undefined
    ? []
    : [
        { name: 'reply with notification ÷ without, p50', value: ratio.p50, limit: RATIO },
        { name: 'reply with notification ÷ without, p95', value: ratio.p95, limit: RATIO },
      ].map(b => ({ ...b, value: Number(b.value.toFixed(3)), unit: '×', pass: b.value <= b.limit }))

  console.log(`\nOutgoing mail (issue #11): ${REPLIES} agent replies per ticket, interleaved, one at a time; SMTP relay on loopback (STARTTLS, AUTH)`)
  console.log(`  reply that notifies the requester    p50 ${w.p50.toFixed(2).padStart(7)} ms   p95 ${w.p95.toFixed(2).padStart(7)} ms`)
  console.log(`  reply, requester's mail turned off   p50 ${wo.p50.toFixed(2).padStart(7)} ms   p95 ${wo.p95.toFixed(2).padStart(7)} ms`)
  console.log(`  ratio with ÷ without                 p50 ${ratio.p50.toFixed(2).padStart(7)} ×    p95 ${ratio.p95.toFixed(2).padStart(7)} ×    (added p50 ${(w.p50 - wo.p50).toFixed(2)} ms)`)
  console.log(`  reply's response → mail at the relay p50 ${mail.p50.toFixed(1).padStart(7)} ms   p95 ${mail.p95.toFixed(1).padStart(7)} ms   max ${mail.max.toFixed(1)} ms (information; ${delays.length} mails, ${toQuiet} to the quiet requester)`)
  if (!budgets.length) console.log('  (no budget set for the ratio: BENCH_MAIL_RATIO=<n> compares against ≤ n)')
  for (const b of budgets) console.log(`  ${b.pass ? 'PASS' : 'FAIL'}  ${b.name}: ${b.value.toFixed(2)} × (budget ≤ ${b.limit} ×)`)
  const summary = { bench: 'mail-out', replies: REPLIES, with: w, without: wo, ratio, mailDelivery: mail, mailsToQuietRequester: toQuiet, budgets, pass: budgets.every(b => b.pass) }
  console.log(`\n${JSON.stringify(summary)}`)
  if (!summary.pass) process.exitCode = 1
}
finally {
  await app.stop()
  await smtp.stop()
}
