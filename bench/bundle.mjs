// The JavaScript a browser loads first for the ticket page (`pages/tickets/[id].vue`), from a
// build's client manifest (the one the server renders pages with, which preloads exactly these): the
// entry chunk, the default layout and the page chunk, with all their static imports
// transitively; raw bytes and gzip (node:zlib, default level) summed over the files.
// For this build (the one in .output) and for the first release: the parent of the commit that
// added @nuxt/ui to package.json, built once in a temporary `git worktree add --detach` under
// /tmp and its client output cached under a fixed path (BENCH_REBUILD=1 builds it again); the
// worktree itself is removed again, so no registration is left behind.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'

const root = fileURLToPath(new URL('..', import.meta.url))
const git = (...args) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim()
const PAGE = 'pages/tickets/[id].vue'
const LAYOUT = 'layouts/default.vue'

/**
 * A checkout's last `nuxt build`, as the server renders pages from it: the client manifest
 * (`dist/server/client.manifest.mjs`; Vite's own manifest.json is deleted once the build ends)
 * and the client files (`dist/client/_nuxt`). Nuxt 4 builds under node_modules/.cache/nuxt/.nuxt.
 */
function buildDir(dir) {
  for (const candidate of ['node_modules/.cache/nuxt/.nuxt', '.nuxt']) {
    if (existsSync(join(dir, candidate, 'dist/server/client.manifest.mjs'))) return join(dir, candidate)
  }
  throw new Error(`no client manifest under ${dir} (run nuxt build there; BENCH_BUILD=1 npm run bench -- live rebuilds this checkout)`)
}

/** Entry, layout and page with their static imports, closed transitively; files and sizes. */
export async function measure(dir) {
  const manifest = (await import(pathToFileURL(join(dir, 'dist/server/client.manifest.mjs')).href)).default
  const entry = Object.keys(manifest).find(k => manifest[k].isEntry)
  if (!manifest[PAGE]) throw new Error(`${PAGE} is not in ${dir}'s client manifest`)
  const starts = [entry, LAYOUT, PAGE].filter(k => k && manifest[k])
  const seen = new Set()
  const visit = (key) => {
    if (seen.has(key)) return
    seen.add(key)
    for (const next of manifest[key].imports ?? []) visit(next)
  }
  starts.forEach(visit)
  const files = [...new Set([...seen].map(k => manifest[k].file.replace(/^_nuxt\//, '')).filter(f => f.endsWith('.js')))]
  let raw = 0
  let gzip = 0
  for (const file of files) {
    const bytes = readFileSync(join(dir, 'dist/client/_nuxt', file))
    raw += bytes.length
    gzip += gzipSync(bytes).length
  }
  return { files, raw, gzip, starts }
}

/** The first release: the parent of the first commit whose package.json names @nuxt/ui. */
export function baselineCommit() {
  const added = git('log', '--reverse', '--format=%H', '-S"@nuxt/ui"', '--', 'package.json').split('\n')[0]
  if (!added) throw new Error('no commit added @nuxt/ui to package.json')
  const parent = git('rev-parse', `${added}^`)
  const has = rev => git('show', `${rev}:package.json`).includes('"@nuxt/ui"')
  if (!has(added) || has(parent)) throw new Error(`${added.slice(0, 7)} is not the commit that added @nuxt/ui`)
  return { commit: parent, addedBy: added }
}

function buildBaseline(commit, cache) {
  const src = `/tmp/helpdesk-bench-baseline-src-${commit.slice(0, 12)}`
  rmSync(src, { recursive: true, force: true })
  git('worktree', 'prune')
  console.log(`building the first release ${commit.slice(0, 7)} in ${src} (npm ci and nuxt build, once; cached in ${cache})`)
  git('worktree', 'add', '--detach', src, commit)
  try {
    const run = (command, args) => {
      const env = { ...process.env, NUXT_TELEMETRY_DISABLED: '1', PATH: `${join(src, 'node_modules/.bin')}:${process.env.PATH}` }
      const { status } = spawnSync('nice', [command, ...args], { cwd: src, stdio: ['ignore', 'inherit', 'inherit'], env })
      if (status !== 0) throw new Error(`${command} ${args.join(' ')} in ${src} failed (${status})`)
    }
    run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'])
    run('npx', ['nuxt', 'build'])
    rmSync(cache, { recursive: true, force: true })
    const built = buildDir(src)
    cpSync(join(built, 'dist/server/client.manifest.mjs'), join(cache, 'dist/server/client.manifest.mjs'))
    cpSync(join(built, 'dist/client/_nuxt'), join(cache, 'dist/client/_nuxt'), { recursive: true })
  }
  finally {
    try {
      git('worktree', 'remove', '--force', src)
    }
    catch { /* removed below */ }
    rmSync(src, { recursive: true, force: true })
    git('worktree', 'prune')
  }
}

export async function initialJs() {
  const { commit, addedBy } = baselineCommit()
  const cache = `/tmp/helpdesk-bench-baseline-${commit.slice(0, 12)}`
  if (process.env.BENCH_REBUILD || !existsSync(join(cache, 'dist/server/client.manifest.mjs'))) buildBaseline(commit, cache)
  const dirty = !!git('status', '--porcelain', '--', 'app', 'nuxt.config.ts', 'package.json')
  return {
    page: PAGE,
    baseline: { commit, addedBy, dir: cache, ...await measure(cache) },
    current: { commit: git('rev-parse', 'HEAD'), dirty, dir: buildDir(root), ...await measure(buildDir(root)) },
  }
}
