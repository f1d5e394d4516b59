// `npm run worker`: the same build as the app, started as the worker. It runs the background
// jobs (mail out and in, clean-ups) and serves only GET /health and GET /ready on WORKER_PORT.
import { existsSync } from 'node:fs'

if (!existsSync(new URL('../.output/server/index.mjs', import.meta.url))) {
  console.error('No build found: run `npm run build` first.')
  process.exit(1)
}
process.env.PROCESS_ROLE = 'worker'
process.env.HOST ??= '127.0.0.1'
// Nitro listens on PORT: the worker's is WORKER_PORT.
process.env.PORT = process.env.WORKER_PORT || '8081'
process.env.NUXT_TELEMETRY_DISABLED ??= '1'
await import('../.output/server/index.mjs')
