/**
 * True from the first time `open()` is true, and then for good. A dialog loaded on demand
 * (`<LazyUModal v-if="opened">`) mounts then and stays, so its closing animation still plays;
 * until someone opens it, its code is not part of the page's JavaScript (bench/bundle.mjs).
 */
export function useOpenedOnce(open: () => boolean): Readonly<Ref<boolean>> {
  const opened = ref(open())
  const stop = watch(open, (isOpen) => {
    if (!isOpen) return
    opened.value = true
    stop()
  })
  return readonly(opened)
}
