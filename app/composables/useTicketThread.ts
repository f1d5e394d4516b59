import type { Comment, TicketEvent } from '#shared/types/ticket'

export type ThreadEntry = { kind: 'comment', at: string, comment: Comment } | { kind: 'event', at: string, event: TicketEvent }
const PAGE = 50

/**
 * A ticket's conversation and history, newest first from the server, shown oldest to newest.
 * Two paged streams (replies, history) are merged: only entries newer than the older edge of
 * whichever stream still has more are shown, so nothing appears out of order while the rest
 * loads on demand. Live additions come in through `addComment` and `refreshHistory`.
 */
export function useTicketThread(ticketId: MaybeRefOrGetter<string>) {
  const id = computed(() => toValue(ticketId))
  const replies = useCursorList<Comment>(() => `/api/tickets/${id.value}/comments`, { key: `comments-${id.value}`, query: { order: 'newest', limit: PAGE } })
  const history = useCursorList<TicketEvent>(() => `/api/tickets/${id.value}/events`, { key: `events-${id.value}`, query: { order: 'newest', limit: PAGE } })
  const liveComments = ref<Comment[]>([])
  const liveEvents = ref<TicketEvent[]>([])
  watch(id, () => {
    liveComments.value = []
    liveEvents.value = []
  })

  const unique = <T extends { id: string }>(list: T[]) => [...new Map(list.map(x => [x.id, x])).values()]
  const comments = computed(() => unique([...replies.items.value, ...liveComments.value]))
  const events = computed(() => unique([...history.items.value, ...liveEvents.value]))

  const edge = (list: { createdAt: string }[], more: boolean) => (more && list.length ? list.reduce((min, x) => (x.createdAt < min ? x.createdAt : min), list[0]!.createdAt) : '')
  const horizon = computed(() => [edge(replies.items.value, replies.hasMore.value), edge(history.items.value, history.hasMore.value)].reduce((a, b) => (a > b ? a : b), ''))

  const entries = computed<ThreadEntry[]>(() => [
    ...comments.value.map(comment => ({ kind: 'comment' as const, at: comment.createdAt, comment })),
    ...events.value.map(event => ({ kind: 'event' as const, at: event.createdAt, event })),
  ].filter(e => e.at >= horizon.value).sort((a, b) => a.at.localeCompare(b.at)))

  /** The newest moment on screen: what a reply written now has seen. */
  const seenUpTo = computed(() => entries.value.at(-1)?.at ?? null)

  async function loadOlder() {
    // Load whichever stream's edge hides the most; both when they meet.
    const [c, e] = [edge(replies.items.value, replies.hasMore.value), edge(history.items.value, history.hasMore.value)]
    await Promise.all([c && c >= e ? replies.loadMore() : null, e && e >= c ? history.loadMore() : null])
  }

  function addComment(comment: Comment) {
    if (!comments.value.some(c => c.id === comment.id)) liveComments.value.push(comment)
  }
  async function refreshHistory() {
    const page = await $fetch<{ data: TicketEvent[] }>(`/api/tickets/${id.value}/events`, { query: { order: 'newest', limit: PAGE } })
    liveEvents.value = unique([...liveEvents.value, ...page.data])
  }

  return {
    entries,
    seenUpTo,
    hasOlder: computed(() => replies.hasMore.value || history.hasMore.value),
    loadOlder,
    loadingOlder: computed(() => replies.loadingMore.value || history.loadingMore.value),
    olderError: computed(() => replies.moreError.value || history.moreError.value),
    error: computed(() => replies.error.value || history.error.value),
    refresh: () => Promise.all([replies.refresh(), history.refresh()]).then(() => {
      liveComments.value = []
      liveEvents.value = []
    }),
    addComment,
    refreshHistory,
  }
}
