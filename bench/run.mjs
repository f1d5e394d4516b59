// `npm run bench`: measures side by side, in one run and one build, what the design budgets.
// /api/auth/validate against a bare Nitro route, then ticket lists and search at scale.
// `npm run bench -- tickets`, `-- validate`, `-- mail-in`, `-- live` (live updates: delivery, idle
// streams, the ticket page's JavaScript against the first release) or `-- mail-out` (a reply's
// cost with a notification ÷ without) runs one.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

if (!existsSync(new URL('../.output/server/index.mjs', import.meta.url)) || process.env.BENCH_BUILD) {
  const { status } = spawnSync('nuxt', ['build'], { stdio: 'inherit', env: { ...process.env, NUXT_TELEMETRY_DISABLED: '1' } })
  if (status !== 0) process.exit(status ?? 1)
}
const only = process.argv[2]
if (!only || only === 'validate') await import('./validate.mjs')
if (!only || only === 'tickets') await import('./tickets.mjs')
if (!only || only === 'mail-in') await import('./mail-in.mjs')
if (!only || only === 'live') await import('./live.mjs')
if (!only || only === 'mail-out') await import('./mail-out.mjs')
