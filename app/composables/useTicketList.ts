import type { Page, Ticket } from '#shared/types/ticket'

export interface TicketFilters {
  q?: string
  status?: string
  priority?: string
  assignee?: string
}

/** The first page comes with the page render; "Load more" follows the keyset cursor. */
export function useTicketList(filters: Ref<TicketFilters>) {
  const query = computed(() => Object.fromEntries(Object.entries(filters.value).filter(([, v]) => v)))
  const first = useFetch<Page<Ticket>>('/api/tickets', { key: 'tickets', query, watch: [query] })
  const more = ref<Ticket[]>([])
  const cursor = ref<string | null>(null)
  const loadingMore = ref(false)
  const moreError = ref('')

  watch(first.data, (page) => {
    more.value = []
    cursor.value = page?.meta.nextCursor ?? null
  }, { immediate: true })

  async function loadMore() {
    if (!cursor.value) return
    loadingMore.value = true
    moreError.value = ''
    try {
      const page = await $fetch<Page<Ticket>>('/api/tickets', { query: { ...query.value, cursor: cursor.value } })
      more.value.push(...page.data)
      cursor.value = page.meta.nextCursor
    }
    catch (e) {
      moreError.value = errorMessage(e)
    }
    finally {
      loadingMore.value = false
    }
  }

  return {
    tickets: computed(() => [...(first.data.value?.data ?? []), ...more.value]),
    pending: first.pending,
    error: first.error,
    refresh: first.refresh,
    hasMore: computed(() => !!cursor.value),
    loadMore,
    loadingMore,
    moreError,
  }
}
