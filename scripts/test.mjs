// `npm test`: build the server the integration and browser tests boot, then run every test.
// SKIP_BUILD=1 reuses an existing build (for quick reruns while editing tests).
import { spawnSync } from 'node:child_process'

function run(command, args) {
  const { status } = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, NUXT_TELEMETRY_DISABLED: '1' } })
  if (status !== 0) process.exit(status ?? 1)
}

if (!process.env.SKIP_BUILD) run('nuxt', ['build'])
run('vitest', ['run', ...process.argv.slice(2)])
