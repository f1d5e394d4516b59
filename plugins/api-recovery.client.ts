/**
 * A 5xx is an outage, not a sign-out: reads are retried a few times, and whatever error
 * remains reaches the page as JSON (a gateway's HTML error page included).
 *
 * When an API call finds the session ended — a 401, or a redirect / HTML page where JSON was
 * expected (a gateway or a failed renewal sending the browser to sign in) — forget the user and
 * sign in again, coming back to the same page. Local mode shows the sign-in form; OIDC mode goes
 * through the IdP. Loop guard: if it happens again shortly after such a round trip, show the
 * signed-out page with a button instead of bouncing. The sign-in endpoints are left alone.
 *
 * It wraps `window.fetch`, which every `$fetch` / `useFetch` ends in: the app's `$fetch` is
 * bound when the app loads, before plugins run, so replacing `globalThis.$fetch` misses it.
 */
const RECOVERY_KEY = 'helpdesk:sign-in-recovery'
const LOOP_WINDOW_MS = 60_000

function apiPath(input: RequestInfo | URL): string | null {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, window.location.origin)
  if (url.origin !== window.location.origin) return null
  const path = url.pathname
  return path.startsWith('/api/') && !path.startsWith('/api/auth/') && !path.startsWith('/api/_auth/') ? path : null
}

function endedSession(response: Response): boolean {
  // An outage (5xx, from the app or from a gateway's error page) is never a sign-out.
  if (response.status >= 500) return false
  return response.status === 401 || response.redirected || (response.headers.get('content-type') ?? '').includes('text/html')
}

// Reads are tried again a few times while the service is briefly unavailable (a restart, a
// dependency coming back); changes are not, since the first attempt may have arrived.
const RETRY_DELAYS_MS = [500, 1500, 3000]
const retryable = (method: string, response: Response) => method === 'GET' && [502, 503, 504].includes(response.status)

function retryDelay(response: Response, attempt: number): number {
  const asked = Number(response.headers.get('retry-after')) * 1000
  return Math.min(Number.isFinite(asked) && asked > 0 ? asked : RETRY_DELAYS_MS[attempt]!, 5000)
}

/** A gateway's HTML error page becomes the JSON error the pages expect, with a message people can act on. */
function asJsonError(response: Response): Response {
  if ((response.headers.get('content-type') ?? '').includes('application/json')) return response
  const body = { statusCode: response.status, statusMessage: 'Service Unavailable', message: 'Helpdesk is unavailable for a moment. Try again shortly.' }
  return new Response(JSON.stringify(body), { status: response.status, headers: { 'content-type': 'application/json' } })
}

export default defineNuxtPlugin({
  name: 'api-recovery',
  enforce: 'pre',
  setup(nuxtApp) {
    const me = useState('me')
    const oidc = useRuntimeConfig().public.authMode === 'oidc'

    async function recover() {
      me.value = null
      const route = nuxtApp.$router.currentRoute.value
      if (route.path === '/login' || route.path === '/signed-out') return
      const back = route.fullPath
      if (!oidc) return nuxtApp.runWithContext(() => navigateTo({ path: '/login', query: { redirect: back } }))
      const last = Number(sessionStorage.getItem(RECOVERY_KEY) ?? 0)
      if (Date.now() - last < LOOP_WINDOW_MS) {
        return nuxtApp.runWithContext(() => navigateTo({ path: '/signed-out', query: { redirect: back } }))
      }
      sessionStorage.setItem(RECOVERY_KEY, String(Date.now()))
      window.location.assign(`/auth/oidc/login?redirect=${encodeURIComponent(back)}`)
    }

    const nativeFetch = window.fetch.bind(window)
    window.fetch = async (input, init) => {
      let response = await nativeFetch(input, init)
      if (!apiPath(input)) return response
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
      for (let attempt = 0; attempt < RETRY_DELAYS_MS.length && retryable(method, response); attempt++) {
        await new Promise(r => setTimeout(r, retryDelay(response, attempt)))
        response = await nativeFetch(input, init)
      }
      if (response.status >= 500) return asJsonError(response)
      if (!endedSession(response)) return response
      await recover()
      // Never hand a sign-in page to the caller as if it were data.
      return response.status === 401
        ? response
        : new Response(JSON.stringify({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Sign in to continue.' }), { status: 401, headers: { 'content-type': 'application/json' } })
    }
  },
})
