/** Pages need a signed-in user, except the sign-in and signed-out pages. */
export default defineNuxtRouteMiddleware(async (to) => {
  const { load, goToSignIn } = useSession()
  const me = await load()
  if (to.meta.public) {
    if (me && to.path === '/login') return navigateTo(safeRedirect(to.query.redirect))
    return
  }
  if (!me) return goToSignIn(to.fullPath)
  if (to.meta.role === 'manager' && !useSession().isManager.value) return abortNavigation(createError({ statusCode: 404, statusMessage: 'Not Found' }))
})

declare module '#app' {
  interface PageMeta {
    public?: boolean
    role?: 'manager'
  }
}
