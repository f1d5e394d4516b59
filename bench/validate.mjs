// /api/auth/validate with a warm token vs a bare Nitro route (/healthz) in the same build and
// run, plus cold tokens (a signature check and user lookup each) and a JWKS rotation.
// Budget (docs/gateway.md): warm validate ≥ 0.9 × bare. Bounded request counts, keep-alive.
import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, Agent, request } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import postgres from 'postgres'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const COLD_TOKENS = Number(process.env.BENCH_COLD_TOKENS ?? 2_000)
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

// --- a token issuer with a JWKS on loopback ---------------------------------------------------
async function makeKey(alg) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const kid = randomUUID()
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}
let keys = [await makeKey('RS256')]
let jwksFetches = 0
const idp = createServer((req, res) => {
  jwksFetches++
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys.map(k => k.jwk) }))
})
await new Promise(r => idp.listen(0, '127.0.0.1', r))
const issuer = `http://127.0.0.1:${idp.address().port}`
const mint = (sub, key = keys.at(-1)) => new SignJWT({ sub, scope: 'tickets:read tickets:write', email: `${sub}@bench.test` })
  .setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuer(issuer).setAudience('helpdesk-api')
  .setIssuedAt().setExpirationTime('1h').sign(key.privateKey)

// --- the built app with its own database --------------------------------------------------------
const dbName = `helpdesk_bench_${randomBytes(4).toString('hex')}`
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database ${dbName}`)
const dbUrl = new URL(adminUrl)
dbUrl.pathname = `/${dbName}`
const dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-bench-'))
const port = 20_000 + Math.floor(Math.random() * 20_000)
const app = spawn(process.execPath, ['.output/server/index.mjs'], {
  env: {
    PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir,
    DATABASE_URL: dbUrl.toString(), PUBLIC_URL: `http://127.0.0.1:${port}`, AUTH_LOCAL_SECRET: randomBytes(32).toString('hex'),
    ADMIN_PASSWORD: randomBytes(12).toString('hex'), LOG_LEVEL: 'warn', DATABASE_ALLOW_RLS_BYPASS: 'true', SETTINGS_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    OIDC_ISSUER: issuer, OIDC_JWKS_URL: `${issuer}/jwks`, OIDC_AUDIENCE: 'helpdesk-api', JWKS_MIN_REFETCH_SECONDS: '1',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
})
const base = `http://127.0.0.1:${port}`
for (let i = 0; i < 300; i++) {
  if (await fetch(`${base}/readyz`).then(r => r.ok, () => false)) break
  await new Promise(r => setTimeout(r, 200))
}

// --- a bounded keep-alive load loop ------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
function once(path, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.on('error', reject)
    req.end()
  })
}
/** Requests per second for `count` requests, `headersFor(i)` giving each one's headers. */
async function load(path, count, headersFor = () => ({}), expected) {
  let next = 0
  const statuses = new Map()
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++
      const status = await once(path, headersFor(i))
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
  }))
  const seconds = (performance.now() - started) / 1000
  if (statuses.size !== 1 || !statuses.has(expected)) throw new Error(`${path}: unexpected answers ${JSON.stringify([...statuses])}`)
  return count / seconds
}
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = n => `${Math.round(n).toLocaleString('en')} req/s`

try {
  const warmToken = await mint('bench-user')
  const warm = { authorization: `Bearer ${warmToken}` }
  await load('/api/auth/validate', 2_000, () => warm, 204)
  await load('/healthz', 2_000, () => ({}), 200)

  const bare = []
  const validate = []
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await load('/healthz', REQUESTS, () => ({}), 200))
    validate.push(await load('/api/auth/validate', REQUESTS, () => warm, 204))
  }
  const bareRate = median(bare)
  const warmRate = median(validate)

  const coldTokens = await Promise.all(Array.from({ length: COLD_TOKENS }, (_, i) => mint(`cold-${i % 50}`)))
  const coldRate = await load('/api/auth/validate', COLD_TOKENS, i => ({ authorization: `Bearer ${coldTokens[i]}` }), 204)
  const bareAfterCold = await load('/healthz', REQUESTS, () => ({}), 200)

  // The IdP rotates its key: the first unknown kid refetches the JWKS once, then tokens verify.
  keys = [await makeKey('ES256')]
  await new Promise(r => setTimeout(r, 1_100))
  const fetchesBefore = jwksFetches
  const rotated = await Promise.all(Array.from({ length: COLD_TOKENS }, (_, i) => mint(`cold-${i % 50}`)))
  const rotationRate = await load('/api/auth/validate', COLD_TOKENS, i => ({ authorization: `Bearer ${rotated[i]}` }), 204)
  const rotationFetches = jwksFetches - fetchesBefore

  const ratio = warmRate / bareRate
  console.log(`\n/api/auth/validate benchmark (${ROUNDS} rounds × ${REQUESTS} requests, ${CONCURRENCY} keep-alive connections, median)`)
  console.log(`  bare Nitro route /healthz      ${fmt(bareRate)}   rounds: ${bare.map(fmt).join(', ')}`)
  console.log(`  validate, warm token           ${fmt(warmRate)}   rounds: ${validate.map(fmt).join(', ')}`)
  console.log(`  ratio warm / bare              ${ratio.toFixed(3)}   (budget ≥ 0.9: ${ratio >= 0.9 ? 'met' : 'NOT met'})`)
  console.log(`  validate, cold tokens          ${fmt(coldRate)}   ratio to bare ${(coldRate / bareAfterCold).toFixed(3)} (${COLD_TOKENS} distinct tokens: signature + user lookup each)`)
  console.log(`  validate, after key rotation   ${fmt(rotationRate)}   ratio to bare ${(rotationRate / bareAfterCold).toFixed(3)} (ES256, ${rotationFetches} JWKS fetch for ${COLD_TOKENS} new-kid tokens)`)
  process.exitCode = ratio >= 0.9 ? 0 : 1
}
finally {
  agent.destroy()
  app.kill('SIGTERM')
  await new Promise(r => app.once('exit', r))
  idp.close()
  await admin.unsafe(`drop database if exists ${dbName} with (force)`)
  await admin.end()
  await rm(dataDir, { recursive: true, force: true })
}
