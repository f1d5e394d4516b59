import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { JWTPayload } from 'jose'
import { z } from 'zod'
import { publicUrl, useConfig } from '#server/utils/config'
import { DependencyUnavailable } from '#server/utils/dependencies'
import { useLogger } from '#server/utils/logger'
import { configureModuleProvider } from './oidc-adapter'

const discoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  end_session_endpoint: z.url().optional(),
})

export type Discovery = z.infer<typeof discoverySchema>

export interface IdentityProvider {
  discovery: Discovery
  clientId: string
  clientSecret: string
  /** Verifies a token the IdP issued to this client (signature, issuer, audience, expiry). */
  verify: (token: string) => Promise<JWTPayload>
}

function discoveryUrl(): URL {
  const issuer = useConfig().OIDC_ISSUER!
  return new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`)
}

/** The discovery document, or an error once the IdP refuses, fails or has not answered within OIDC_TIMEOUT_MS. */
async function fetchDiscovery(): Promise<unknown> {
  const url = discoveryUrl()
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(useConfig().OIDC_TIMEOUT_MS) })
  if (!response.ok) throw new Error(`${url} answered ${response.status}`)
  return response.json()
}

async function discover(): Promise<IdentityProvider> {
  const config = useConfig()
  const issuer = config.OIDC_ISSUER!
  const discovery = discoverySchema.parse(await fetchDiscovery())
  if (discovery.issuer !== issuer) throw new Error(`the issuer is ${discovery.issuer}, not OIDC_ISSUER=${issuer}`)

  const base = publicUrl(config)
  configureModuleProvider({
    clientId: config.OIDC_CLIENT_ID!,
    clientSecret: config.OIDC_CLIENT_SECRET!,
    redirectUri: `${base}/auth/oidc/callback`,
    authorizationUrl: discovery.authorization_endpoint,
    tokenUrl: discovery.token_endpoint,
    openIdConfiguration: discovery,
  })

  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: config.OIDC_TIMEOUT_MS })
  return {
    discovery,
    clientId: config.OIDC_CLIENT_ID!,
    clientSecret: config.OIDC_CLIENT_SECRET!,
    verify: async token => (await jwtVerify(token, jwks, {
      issuer: discovery.issuer,
      audience: config.OIDC_CLIENT_ID!,
      algorithms: ['RS256', 'ES256'],
    })).payload,
  }
}

let discovering: Promise<IdentityProvider> | undefined

/**
 * The identity provider of OIDC_ISSUER, from its discovery document. Fetched on first use and
 * kept in memory (not across restarts); a failure is not kept, so the app starts (and recovers)
 * while the IdP is unreachable. Unreachable: DependencyUnavailable (503, counted).
 */
export async function useIdentityProvider(): Promise<IdentityProvider> {
  discovering ??= discover()
  try {
    return await discovering
  }
  catch (error) {
    discovering = undefined
    useLogger().error({ err: error }, `OIDC discovery failed: ${(error as Error).message}`)
    throw new DependencyUnavailable('identity provider', { cause: error })
  }
}

let probing: Promise<void> | undefined

/**
 * Whether the IdP answers right now (its discovery document, within OIDC_TIMEOUT_MS). A sign-in
 * asks before it sends the browser there: the kept discovery document says nothing about that.
 * Starts at the same moment share one probe. Unreachable: DependencyUnavailable.
 */
export function probeIdentityProvider(): Promise<void> {
  probing ??= fetchDiscovery().then(
    () => {},
    (error: unknown) => {
      useLogger().warn({ err: error }, `sign-in: the identity provider is not answering (${discoveryUrl()}): ${(error as Error).message}`)
      throw new DependencyUnavailable('identity provider', { cause: error })
    },
  ).finally(() => {
    probing = undefined
  })
  return probing
}
