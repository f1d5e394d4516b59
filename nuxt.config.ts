import { cp } from 'node:fs/promises'
import { join } from 'node:path'

export default defineNuxtConfig({
  modules: ['@nuxt/eslint', '@nuxt/ui', 'nuxt-oidc-auth'],
  // The design keeps Nuxt plugins in the top-level plugins/ folder.
  plugins: ['~~/plugins/api-recovery.client.ts', '~~/plugins/hydrated.client.ts'],
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
  // @nuxt/ui brings Tailwind's Vite plugin. No web fonts and no icon fetched at run time:
  // installations often have no internet, so the icon set is bundled from @iconify-json/lucide.
  // Only the colours the app uses get theme variants (each one adds classes to every component's
  // theme in the page bundles); neutral is always there, `info` would be the same blue as primary.
  ui: { fonts: false, theme: { colors: ['primary', 'success', 'warning', 'error'] } },
  // AUTH_MODE is chosen at run time; the start-up plugin copies it here for the pages.
  runtimeConfig: { public: { authMode: 'local' } },
  // Share links carry their token in the address: never cache or index them (no-referrer: security headers).
  routeRules: { '/s/**': { headers: { 'cache-control': 'no-store', 'x-robots-tag': 'noindex' } } },
  compatibilityDate: '2026-11-01',
  nitro: {
    // server/plugins/graceful-shutdown.ts drains and closes on SIGTERM itself; Nitro's own handler
    // (which closes the listener at once) is switched off in the build, not through process.env.
    replace: { 'process.env.NITRO_SHUTDOWN_DISABLED': JSON.stringify('1') },
    hooks: {
      // Migrations run at start-up, so the built server carries its own copy of them.
      async compiled(nitro) {
        await cp(join(nitro.options.rootDir, 'server/db/migrations'), join(nitro.options.output.serverDir, 'db/migrations'), { recursive: true })
      },
    },
  },
  typescript: { strict: true },
  telemetry: false,
  eslint: { config: { stylistic: true } },
  icon: {
    // Inline SVG: CSS mode adds <style> elements at run time, which the nonce-based CSP blocks.
    mode: 'svg',
    provider: 'server',
    fallbackToApi: false,
    serverBundle: { collections: ['lucide'] },
    clientBundle: { scan: true },
  },
  // One build serves both modes: in AUTH_MODE=local the module's routes answer 404
  // (server/middleware/2.oidc.ts). The issuer's endpoints, the client and the redirect URIs
  // are filled in at run time from OIDC_* (server/utils/oidc-provider.ts); renewal, sign-out
  // and provisioning are the app's own (server/services/oidc-sessions.ts), see docs/oidc.md.
  oidc: {
    devtools: false,
    // Without its secrets the module would make up random ones per process (login loops
    // across replicas); production refuses to start instead, development generates them once.
    provideDefaultSecrets: false,
    middleware: { globalMiddlewareEnabled: false, customLoginPage: true },
    session: {
      // The module renews without a lock and appends claims on every renewal: the app renews itself.
      automaticRefresh: false,
      expirationCheck: false,
      maxAge: 30 * 24 * 3600,
      cookie: { sameSite: 'lax', secure: true },
    },
    providers: {
      // @ts-expect-error the type wants redirectUri; it is PUBLIC_URL's, set at run time with the endpoints
      oidc: {
        scope: ['openid', 'email', 'profile', 'offline_access', 'groups'],
        pkce: true,
        state: true,
        // A nonce would switch the module to response_mode=form_post; state and PKCE suffice.
        nonce: false,
        tokenRequestType: 'form-urlencoded',
        authenticationScheme: 'header',
        validateAccessToken: true,
        validateIdToken: true,
        exposeAccessToken: false,
        exposeIdToken: false,
        callbackRedirectUrl: '/auth/signed-in',
      },
    },
  },
})
