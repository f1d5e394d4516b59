/**
 * Marks the page as interactive once the first render has hydrated (`<html data-hydrated>`).
 * Text typed into a field before that moment is replaced by the field's model when Vue takes
 * the page over, so the browser tests wait for this mark before they type; it also lets an
 * operator's synthetic check tell "served" from "usable".
 */
export default defineNuxtPlugin((nuxtApp) => {
  nuxtApp.hook('app:suspense:resolve', () => {
    document.documentElement.dataset.hydrated = 'true'
  })
})
