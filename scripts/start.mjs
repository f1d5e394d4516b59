// Runs the built server with the zero-install defaults: loopback only, port 3000,
// embedded database and local sign-in unless the environment says otherwise.
import { existsSync } from 'node:fs'

if (!existsSync(new URL('../.output/server/index.mjs', import.meta.url))) {
  console.error('No build found: run `npm start` (it builds first) or `npm run build`.')
  process.exit(1)
}
process.env.HOST ??= '127.0.0.1'
process.env.PORT ??= '3000'
process.env.NUXT_TELEMETRY_DISABLED ??= '1'
await import('../.output/server/index.mjs')
