export interface Viewer { id: string, name: string, state: 'viewing' | 'typing', until: string }

/**
 * Tells the ticket's other viewers that this user is here (and whether typing) with a heartbeat
 * well inside the server's ~30 s expiry, and that they left when the page closes.
 */
export function usePresence(ticketId: MaybeRefOrGetter<string>, typing: Ref<boolean>) {
  let timer: ReturnType<typeof setInterval> | undefined
  const send = (state: 'viewing' | 'typing' | 'left') =>
    $fetch(`/api/tickets/${toValue(ticketId)}/presence`, { method: 'POST', body: { state } }).catch(() => { /* presence is a courtesy */ })
  const beat = () => send(typing.value ? 'typing' : 'viewing')
  onMounted(() => {
    beat()
    timer = setInterval(beat, 15_000)
  })
  watch(typing, beat)
  onBeforeUnmount(() => {
    clearInterval(timer)
    send('left')
  })
}
