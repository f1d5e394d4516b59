// `npm run bench`: measures side by side, in one run and one build, what the design budgets.
// For now: /api/auth/validate (the gateway's hot path) against a bare Nitro route.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

if (!existsSync(new URL('../.output/server/index.mjs', import.meta.url)) || process.env.BENCH_BUILD) {
  const { status } = spawnSync('nuxt', ['build'], { stdio: 'inherit', env: { ...process.env, NUXT_TELEMETRY_DISABLED: '1' } })
  if (status !== 0) process.exit(status ?? 1)
}
await import('./validate.mjs')
