import { signOut } from '#server/services/auth/sign-out'

/** 204 in local mode; in OIDC mode 200 `{ redirect }`: the IdP's end-session page. */
export default defineEventHandler(async (event) => {
  const next = await signOut(event)
  if (next) return next
  setResponseStatus(event, 204)
  return null
})
