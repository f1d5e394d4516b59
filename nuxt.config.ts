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
    },
  },
  css: ['~/assets/css/main.css'],
  // Share links carry their token in the address: never leak it onwards, never cache or index it.
  routeRules: { '/s/**': { headers: { 'referrer-policy': 'no-referrer', 'cache-control': 'no-store', 'x-robots-tag': 'noindex' } } },
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
