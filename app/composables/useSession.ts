import type { Me } from '#shared/types/user'
import { hasRole, isStaff } from '#shared/utils/roles'

/** The signed-in user, shared by every page; null when signed out. */
export function useSession() {
  const me = useState<Me | null>('me', () => null)
  const loaded = useState('me-loaded', () => false)
  const requestFetch = useRequestFetch()
  const oidc = useRuntimeConfig().public.authMode === 'oidc'

  /**
   * Who is signed in. Only the server's "not signed in" (401/403) reads as signed out: when it
   * cannot tell (a dependency is down, the network failed) the page shows that outage and keeps
   * the session, instead of sending the person to sign in.
   */
  async function load(force = false) {
    if (loaded.value && !force) return me.value
    try {
      me.value = await requestFetch<Me>('/api/me')
    }
    catch (e) {
      const status = (e as { statusCode?: number }).statusCode
      if (status !== 401 && status !== 403) {
        throw createError({ statusCode: status && status >= 500 ? status : 503, statusMessage: 'Service Unavailable', message: errorMessage(e, 'Helpdesk cannot check your sign-in right now.'), fatal: true })
      }
      me.value = null
    }
    loaded.value = true
    return me.value
  }

  async function signIn(email: string, password: string) {
    const { user } = await $fetch<{ user: Me }>('/api/auth/login', { method: 'POST', body: { email, password } })
    me.value = user
    loaded.value = true
  }

  /** Sends a signed-out visitor of `path` to the sign-in form, or through the IdP and back. */
  function goToSignIn(path: string) {
    if (oidc) return navigateTo(`/auth/oidc/login?redirect=${encodeURIComponent(path)}`, { external: true })
    return navigateTo({ path: '/login', query: path === '/' ? {} : { redirect: path } })
  }

  async function signOut() {
    me.value = null
    // OIDC: the server ends its session and names the IdP's end-session page to go to next.
    const next = await $fetch<{ redirect: string } | null>('/api/auth/logout', { method: 'POST' })
    if (next?.redirect) return navigateTo(next.redirect, { external: true })
    await navigateTo('/login')
  }

  const roles = computed(() => me.value?.roles ?? [])
  return {
    me,
    load,
    signIn,
    signOut,
    goToSignIn,
    isStaff: computed(() => isStaff(roles.value)),
    isManager: computed(() => hasRole(roles.value, 'manager')),
    isAdmin: computed(() => hasRole(roles.value, 'admin')),
  }
}
