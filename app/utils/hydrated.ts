/**
 * Marks the page usable (`<html data-hydrated>`) once the app has hydrated and every part of the
 * page hydrated later (`hydrate-on-idle`, see useDeferredPart) has too. Text typed into a field
 * before its part hydrates is replaced by the field's model, so the browser tests wait for this
 * mark before they type; it also lets an operator's synthetic check tell "served" from "usable".
 */
export function markHydratedWhenReady(): void {
  if (document.querySelector('[data-deferred]:not([data-ready])')) return
  document.documentElement.dataset.hydrated = 'true'
}
