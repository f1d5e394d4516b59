// Inbound mail: how many messages per second the app takes in and turns into tickets, for a
// 20 KB message with one attachment (a PDF) and, side by side in the same run and build, for a
// short plain-text message. Each message goes through the relay endpoint (202 once stored) and
// the processing job (parse, classify, dedupe, thread, sanitise, ticket, attachment to storage).
import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createJiti } from 'jiti'
import postgres from 'postgres'

const MESSAGES = Number(process.env.BENCH_MAIL_MESSAGES ?? 300)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)
const SENDERS = 50
const token = randomBytes(24).toString('hex')

function sample(name, vars) {
  const text = readFileSync(new URL(`../test/fixtures/mail/${name}.eml`, import.meta.url), 'utf8')
  return Buffer.from(text.replace(/\{\{(\w+)\}\}/g, (_, key) => String(vars[key] ?? '')).replace(/\r?\n/g, '\r\n'))
}
const message = (kind, i) => sample(kind, {
  FROM: `sender${i % SENDERS}@customer.example`, FROM_NAME: `Sender ${i % SENDERS}`, TO: 'helpdesk@help.example.test',
  TITLE: `Bench ${kind} ${i}`, BODY: 'The printer on floor 2 shows "offline" since this morning.', MESSAGE_ID: `${randomUUID()}@bench.example`,
})

// --- the built app with its own database, processing in-process (the test fixtures) ------------
const here = p => fileURLToPath(new URL(p, import.meta.url))
const jiti = createJiti(import.meta.url, { alias: { '#server': here('../server'), '#shared': here('../shared') } })
const { freePort, startApp } = await jiti.import('../test/fixtures/app.ts')
const port = await freePort()
const app = await startApp({
  NODE_ENV: 'production', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`,
  INBOUND_EMAIL_TOKEN: token, MAIL_INBOUND_RATE: 'off', MAIL_FROM: 'Helpdesk <helpdesk@help.example.test>',
})
const base = app.url
const db = postgres(app.ownerDatabaseUrl, { max: 2, onnotice: () => {} })

const pending = async () => Number((await db`select count(*)::int as n from inbound_messages where state = 'queued'`)[0].n)

/** Sends `count` messages through the relay, then waits until every one is processed; messages per second for both. */
async function run(kind, count) {
  const bodies = Array.from({ length: count }, (_, i) => message(kind, i))
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const body = bodies[next++]
      const res = await fetch(`${base}/api/inbound/email`, { method: 'POST', headers: { 'content-type': 'message/rfc822', 'authorization': `Bearer ${token}` }, body })
      if (res.status !== 202) throw new Error(`relay answered ${res.status}: ${await res.text()}`)
    }
  }))
  const accepted = performance.now()
  while (await pending()) await new Promise(r => setTimeout(r, 20))
  const done = performance.now()
  const [{ failed }] = await db`select count(*) filter (where state <> 'processed')::int as failed from inbound_messages`
  if (failed) throw new Error(`${failed} messages were not processed`)
  return { size: bodies[0].length, accept: count / ((accepted - started) / 1000), process: count / ((done - started) / 1000) }
}

try {
  await run('new-ticket', 20) // warm-up: connections, first users, JIT
  await db`delete from inbound_messages`
  const attached = await run('new-ticket-attachment', MESSAGES)
  await db`delete from inbound_messages`
  const plain = await run('new-ticket', MESSAGES)
  const [{ files }] = await db`select count(*)::int as files from attachments`
  const line = (label, r) => `  ${label.padEnd(38)} ${String(r.size).padStart(6)} B   accepted ${r.accept.toFixed(0).padStart(5)}/s   processed ${r.process.toFixed(1).padStart(6)}/s`
  console.log(`\nInbound mail, ${MESSAGES} messages each, ${CONCURRENCY} concurrent relay posts, jobs in-process`)
  console.log(line('20 KB with one attachment (PDF)', attached))
  console.log(line('short plain text', plain))
  console.log(`  ratio, with attachment / plain:        ${(attached.process / plain.process).toFixed(2)}× (attachments stored: ${files})`)
}
finally {
  await db.end()
  await app.stop()
}
