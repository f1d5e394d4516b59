/**
 * When an API call answers 401 the session has ended: forget the user and take the browser
 * to sign-in, remembering the page it was on. The sign-in endpoints themselves are left alone.
 */
export default defineNuxtPlugin({
  name: 'api-recovery',
  enforce: 'pre',
  setup(nuxtApp) {
    const me = useState('me')
    globalThis.$fetch = globalThis.$fetch.create({
      async onResponseError({ request, response }) {
        const url = typeof request === 'string' ? request : request.url
        const path = new URL(url, window.location.origin).pathname
        if (response.status !== 401 || !path.startsWith('/api/') || path.startsWith('/api/auth/')) return
        me.value = null
        const route = nuxtApp.$router.currentRoute.value
        if (route.path === '/login') return
        await nuxtApp.runWithContext(() => navigateTo({ path: '/login', query: { redirect: route.fullPath } }))
      },
    })
  },
})
