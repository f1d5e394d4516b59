// Each event's data is the server's JSON (server/services/live/events.ts); handlers name the fields they use.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LiveHandlers = Partial<Record<'ticket' | 'comment' | 'attachment' | 'presence', (data: any) => void>>

/**
 * Follows `/api/live` (one ticket's events, or the queue's without a ticket) while the page is
 * open, in the browser only. EventSource reconnects by itself with Last-Event-ID; when the
 * server refused the stream (a session that ended), it tries again later from the last event
 * seen, so nothing is missed. `connected` says whether events are flowing.
 */
export function useLive(ticket: MaybeRefOrGetter<string | null>, handlers: LiveHandlers) {
  const connected = ref(false)
  let source: EventSource | null = null
  let lastEventId = ''
  let retry: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  function open() {
    close()
    const params = new URLSearchParams()
    const id = toValue(ticket)
    if (id) params.set('ticket', id)
    if (lastEventId) params.set('lastEventId', lastEventId)
    source = new EventSource(`/api/live${params.size ? `?${params}` : ''}`)
    source.onopen = () => (connected.value = true)
    source.onerror = () => {
      connected.value = false
      if (source?.readyState === EventSource.CLOSED && !stopped) retry = setTimeout(open, 5000)
    }
    for (const [type, handle] of Object.entries(handlers)) {
      source.addEventListener(type, (e) => {
        const message = e as MessageEvent<string>
        if (message.lastEventId) lastEventId = message.lastEventId
        handle(JSON.parse(message.data))
      })
    }
  }
  function close() {
    clearTimeout(retry)
    source?.close()
    source = null
    connected.value = false
  }

  onMounted(open)
  watch(() => toValue(ticket), () => import.meta.client && open())
  onBeforeUnmount(() => {
    stopped = true
    close()
  })
  return { connected }
}
