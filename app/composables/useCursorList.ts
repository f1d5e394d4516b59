import type { MaybeRefOrGetter } from 'vue'
import type { Page } from '#shared/types/ticket'

type Query = Record<string, string | number | boolean | undefined | null>

/** What the foot of a list (components/ui/LoadMore.vue) needs of it. */
export interface CursorListFoot {
  hasMore: Readonly<Ref<boolean>>
  loadingMore: Readonly<Ref<boolean>>
  moreError: Readonly<Ref<string>>
  loadMore: () => Promise<void>
}

/**
 * One paged list over a keyset API (`{ data, meta: { nextCursor } }`): the first page comes with
 * the page render (keyed `useFetch`), "Load more" follows the cursor. When the filters change the
 * list starts over, and an answer to a request made for the old filters is dropped (stale guard),
 * so a slow page of yesterday's search never lands in today's list.
 */
export function useCursorList<T, M extends { nextCursor: string | null } = Page<T>['meta']>(url: MaybeRefOrGetter<string>, options: { key: MaybeRefOrGetter<string>, query?: MaybeRefOrGetter<Query> }) {
  // Blank filters are not sent: `?org=` means no filter, as the API reads it.
  const query = computed(() => Object.fromEntries(Object.entries(toValue(options.query) ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '')))
  const first = useFetch<{ data: T[], meta: M }>(() => toValue(url), { key: computed(() => `${toValue(options.key)}:${JSON.stringify(query.value)}`), query, watch: [query] })
  const more = ref<T[]>([]) as Ref<T[]>
  const cursor = ref<string | null>(null)
  const loadingMore = ref(false)
  const moreError = ref('')
  // Bumped whenever the list starts over; a "load more" answer for an older generation is ignored.
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
    const mine = generation
    loadingMore.value = true
    moreError.value = ''
    try {
      const page = await $fetch<{ data: T[], meta: M }>(toValue(url), { query: { ...query.value, cursor: cursor.value } })
      if (mine !== generation) return
      more.value.push(...page.data)
      cursor.value = page.meta.nextCursor
    }
    catch (e) {
      if (mine === generation) moreError.value = errorMessage(e, 'The next page could not be loaded.')
    }
    finally {
      if (mine === generation) loadingMore.value = false
    }
  }

  return {
    items: computed(() => [...(first.data.value?.data ?? []), ...more.value]),
    /** The first page's meta (totals and the like). */
    meta: computed(() => first.data.value?.meta),
    /** The first page is on its way (no data yet for these filters). */
    pending: first.pending,
    error: first.error,
    /** Starts over from the first page (after a change). */
    refresh: first.refresh,
    hasMore: computed(() => !!cursor.value),
    loadMore,
    loadingMore,
    moreError,
  }
}
