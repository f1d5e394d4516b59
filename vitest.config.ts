import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import TakingTurns from './test/sequencer.ts'

export default defineConfig({
  // The same aliases as Nuxt's, so unit tests can import server modules.
  resolve: {
    alias: {
      '#server': fileURLToPath(new URL('./server', import.meta.url)),
      '#shared': fileURLToPath(new URL('./shared', import.meta.url)),
    },
  },
  test: {
    // Two files at a time even on 2 cores: a file mostly waits on its own server, database and
    // browser (one at a time the suite took 18 minutes on a slow CI machine). Browser files and
    // integration files take turns (test/sequencer.ts): with the browser files one at a time after
    // all the others, they took half of the suite's 10 minutes with a core to spare.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: TakingTurns },
    projects: [
      {
        extends: true,
        // nuxt-oidc-auth's runtime is run through Vite so its `#imports` resolves (test/unit/oidc-adapter.test.ts).
        resolve: { alias: { '#imports': fileURLToPath(new URL('./test/unit/nuxt-imports.stub.ts', import.meta.url)) } },
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], server: { deps: { inline: ['nuxt-oidc-auth'] } } },
      },
      {
        extends: true,
        // Each file boots the built server against its own fresh PostgreSQL database; some read the
        // server's zod schemas (test/integration/fuzz.test.ts), which reach nuxt-oidc-auth's runtime.
        resolve: { alias: { '#imports': fileURLToPath(new URL('./test/unit/nuxt-imports.stub.ts', import.meta.url)) } },
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 90_000, server: { deps: { inline: ['nuxt-oidc-auth'] } } },
      },
      {
        extends: true,
        // A browser under load (2 cores, servers booting beside it) can take seconds to repaint.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 90_000, hookTimeout: 90_000, expect: { poll: { timeout: 15_000, interval: 100 } } },
      },
    ],
  },
})
