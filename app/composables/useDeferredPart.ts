/**
 * A part of a page that is hydrated when the browser is idle (`<LazyX hydrate-on-idle>`), so its
 * code is not in the page's initial JavaScript (bench/bundle.mjs). Its root element binds
 * `data-deferred` and `:data-ready="ready || undefined"`; the page counts as usable
 * (`<html data-hydrated>`) once every such part is ready.
 */
export function useDeferredPart(): Readonly<Ref<boolean>> {
  const ready = ref(false)
  onMounted(() => {
    ready.value = true
    nextTick(markHydratedWhenReady)
  })
  return readonly(ready)
}
