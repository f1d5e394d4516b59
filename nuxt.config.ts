import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import tailwindcss from '@tailwindcss/vite'

export default defineNuxtConfig({
  modules: ['@nuxt/eslint'],
  // The design keeps Nuxt plugins in the top-level plugins/ folder.
  plugins: ['~~/plugins/api-recovery.client.ts'],
  devtools: { enabled: false },
  app: {
    head: {
      htmlAttrs: { lang: 'en' },
      title: 'Helpdesk',
      meta: [
        { name: 'viewport', content: 'width=device-width, initial-scale=1' },
        { name: 'description', content: 'Self-hosted helpdesk' },
      ],
      // Zod probes `new Function` when its schemas are built (before any plugin runs); under the
      // Content-Security-Policy (no 'unsafe-eval') that is a reported violation, so switch it off first.
      script: [{ innerHTML: 'globalThis.__zod_globalConfig={jitless:true}', tagPosition: 'head' }],
    },
  },
  css: ['~/assets/css/main.css'],
  compatibilityDate: '2026-11-01',
  nitro: {
    hooks: {
      // Migrations run at start-up, so the built server carries its own copy of them.
      async compiled(nitro) {
        await cp(join(nitro.options.rootDir, 'server/db/migrations'), join(nitro.options.output.serverDir, 'db/migrations'), { recursive: true })
      },
    },
  },
  vite: { plugins: [tailwindcss()] },
  typescript: { strict: true },
  telemetry: false,
  eslint: { config: { stylistic: true } },
})
