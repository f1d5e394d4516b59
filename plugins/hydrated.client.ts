// `<html data-hydrated>` once the first render has hydrated (app/utils/hydrated.ts says when).
export default defineNuxtPlugin((nuxtApp) => {
  nuxtApp.hook('app:suspense:resolve', markHydratedWhenReady)
})
