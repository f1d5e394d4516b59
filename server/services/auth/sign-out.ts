import type { H3Event } from 'h3'
import { audit } from '#server/services/audit'
import { useConfig } from '#server/utils/config'
import { actorOf, getPrincipal } from '#server/utils/principal'
import { signOutLocal } from './local'
import { signOutOidc } from './oidc-sessions'

/**
 * Sign-out, in either mode (a POST, so the CSRF check guards it): the session ends on the server,
 * not only in this browser. OIDC mode answers where to send the browser next (the IdP's
 * end-session page), so the IdP's own session ends too.
 */
export async function signOut(event: H3Event): Promise<{ redirect: string } | null> {
  const who = await getPrincipal(event).catch(() => null)
  const redirect = useConfig().AUTH_MODE === 'oidc' ? await signOutOidc(event) : null
  if (!redirect) await signOutLocal(event)
  if (who && who.via !== 'bearer') await audit(actorOf(event, who), { action: 'sign_out', details: { via: who.via } })
  return redirect ? { redirect } : null
}
