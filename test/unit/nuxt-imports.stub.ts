// What nuxt-oidc-auth's runtime imports from Nuxt's `#imports`; its unit test calls none of them.
const unavailable = () => {
  throw new Error('not available in unit tests')
}
export const useRuntimeConfig = unavailable
export const useStorage = unavailable
