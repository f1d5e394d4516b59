import type { Me } from '#shared/types/user'
import { hasRole, isStaff } from '#shared/utils/roles'

/** The signed-in user, shared by every page; null when signed out. */
export function useSession() {
  const me = useState<Me | null>('me', () => null)
  const loaded = useState('me-loaded', () => false)
  const requestFetch = useRequestFetch()

  async function load(force = false) {
    if (loaded.value && !force) return me.value
    me.value = await requestFetch<Me>('/api/me').catch(() => null)
    loaded.value = true
    return me.value
  }

  async function signIn(email: string, password: string) {
    const { user } = await $fetch<{ user: Me }>('/api/auth/login', { method: 'POST', body: { email, password } })
    me.value = user
    loaded.value = true
  }

  async function signOut() {
    await $fetch('/api/auth/logout', { method: 'POST' })
    me.value = null
    await navigateTo('/login')
  }

  const roles = computed(() => me.value?.roles ?? [])
  return {
    me,
    load,
    signIn,
    signOut,
    isStaff: computed(() => isStaff(roles.value)),
    isManager: computed(() => hasRole(roles.value, 'manager')),
    isAdmin: computed(() => hasRole(roles.value, 'admin')),
  }
}
