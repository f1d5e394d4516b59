import type { Page } from '#shared/types/ticket'

type Query = Record<string, string | number | boolean | undefined | null>

export interface CursorListOptions {
  /** useFetch key of the first page (rendered on the server and reused by the client). */
  key: string
  /** Leaves out empty values, as forms send them. */
  query?: MaybeRefOrGetter<Query>
}

/**
 * A keyset-paged list: the first page comes with the page render, "load more" follows
 * `meta.nextCursor`. When the query changes, the list starts again and any answer still on its
 * way for the old query is dropped (the stale-response guard), so pages never mix filters.
 */
export function useCursorList<T, M extends Page<T>['meta'] = Page<T>['meta']>(url: MaybeRefOrGetter<string>, options: CursorListOptions) {
  const query = computed(() => Object.fromEntries(Object.entries(toValue(options.query) ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '')))
  const first = useFetch<{ data: T[], meta: M }>(() => toValue(url), { key: options.key, query, watch: [query] })
  const more = ref<T[]>([]) as Ref<T[]>
  const cursor = ref<string | null>(null)
  const loadingMore = ref(false)
  const moreError = ref('')
  let generation = 0

  watch(first.data, (page) => {
    generation++
    more.value = []
    moreError.value = ''
    loadingMore.value = false
    cursor.value = page?.meta.nextCursor ?? null
  }, { immediate: true })

  async function loadMore() {
    if (!cursor.value || loadingMore.value) return
    const mine = ++generation
    loadingMore.value = true
    moreError.value = ''
    try {
      const page = await $fetch<{ data: T[], meta: M }>(toValue(url), { query: { ...query.value, cursor: cursor.value } })
      if (mine !== generation) return
      more.value.push(...page.data)
      cursor.value = page.meta.nextCursor
    }
    catch (e) {
      if (mine === generation) moreError.value = errorMessage(e, 'More could not be loaded.')
    }
    finally {
      if (mine === generation) loadingMore.value = false
    }
  }

  return {
    items: computed(() => [...(first.data.value?.data ?? []), ...more.value]),
    /** The first page's meta (totals and the like). */
    meta: computed(() => first.data.value?.meta),
    pending: first.pending,
    error: first.error,
    refresh: first.refresh,
    hasMore: computed(() => !!cursor.value),
    loadMore,
    loadingMore,
    moreError,
  }
}
