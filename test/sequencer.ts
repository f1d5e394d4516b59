import { relative } from 'node:path'
import { BaseSequencer } from 'vitest/node'
import type { TestSpecification } from 'vitest/node'

/**
 * The order files start in. Browser files and integration files take turns, so that most of the
 * time one browser runs beside one integration file (each mostly waits on its own server), and
 * within each kind the longest start first, so that none starts last and runs on alone. How long
 * a file takes is the last run's time when vitest remembers it (a local rerun), otherwise this
 * list of the files that take a minute or so (a clean clone in CI), otherwise its size.
 */
const SLOWEST = [
  'test/e2e/pages.test.ts',
  'test/e2e/oidc.test.ts',
  'test/e2e/faults.test.ts',
  'test/e2e/live.test.ts',
  'test/integration/oidc.test.ts',
  'test/integration/mail-imap.test.ts',
  'test/integration/mail-out.test.ts',
  'test/integration/restart.test.ts',
  'test/integration/faults.test.ts',
  'test/integration/search.test.ts',
]

export default class TakingTurns extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root
    const path = (spec: TestSpecification) => relative(root, spec.moduleId)
    const cost = (spec: TestSpecification) => {
      const key = `${spec.project.name}:${path(spec)}`
      const last = this.ctx.cache.getFileTestResults(key)
      if (last) return 1e9 + last.duration
      const hinted = SLOWEST.indexOf(path(spec))
      if (hinted >= 0) return 1e8 - hinted
      return this.ctx.cache.getFileStats(key)?.size ?? 0
    }
    const byKind = new Map<string, TestSpecification[]>()
    for (const spec of files) {
      if (!byKind.has(spec.project.name)) byKind.set(spec.project.name, [])
      byKind.get(spec.project.name)!.push(spec)
    }
    for (const specs of byKind.values()) specs.sort((a, b) => cost(b) - cost(a))
    // Unit files take a second in all: last.
    const unit = byKind.get('unit') ?? []
    byKind.delete('unit')
    const kinds = [...byKind.values()]
    const turns: TestSpecification[] = []
    for (let i = 0; kinds.some(k => i < k.length); i++) {
      for (const kind of kinds) if (i < kind.length) turns.push(kind[i]!)
    }
    return [...turns, ...unit]
  }
}
