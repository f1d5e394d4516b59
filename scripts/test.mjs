// `npm test`: build the server the integration and browser tests boot, then run every test.
// SKIP_BUILD=1 reuses an existing build (for quick reruns while editing tests).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function run(command, args) {
  return spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, NUXT_TELEMETRY_DISABLED: '1' } }).status ?? 1
}

if (!process.env.SKIP_BUILD) {
  const built = run('nuxt', ['build'])
  if (built !== 0) process.exit(built)
}
const dir = mkdtempSync(join(tmpdir(), 'helpdesk-vitest-'))
const report = join(dir, 'report.json')
const status = run('vitest', ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)])
try {
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(readFileSync(report, 'utf8'))
  // One plain closing line that any CI can read.
  console.log(`\ntests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`)
}
catch {
  console.log('\ntests: no report was written')
}
rmSync(dir, { recursive: true, force: true })
process.exit(status)
