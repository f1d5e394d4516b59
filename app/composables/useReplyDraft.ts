interface Draft {
  body: string
  internal: boolean
  /** Set while a send is under way: a send cut off by an ended session is retried once after signing in. */
  sending?: { seenUpTo: string | null }
}

const keyOf = (ticketId: string) => `helpdesk:draft:${ticketId}`

/**
 * The reply being written, kept per ticket in this browser: it survives a reload, a crash or
 * an ended session (sign in again and it is back). Read after mounting, so the server's
 * render and the first client render agree.
 */
export function useReplyDraft(ticketId: MaybeRefOrGetter<string>) {
  const body = ref('')
  const internal = ref(false)
  let sending: Draft['sending']
  /** A send that was interrupted before this page opened (read once, on mount). */
  const interrupted = ref<Draft['sending'] | null>(null)
  const save = () => {
    const key = keyOf(toValue(ticketId))
    if (body.value.trim()) localStorage.setItem(key, JSON.stringify({ body: body.value, internal: internal.value, sending } satisfies Draft))
    else localStorage.removeItem(key)
  }
  onMounted(() => {
    try {
      const saved = JSON.parse(localStorage.getItem(keyOf(toValue(ticketId))) ?? 'null') as Draft | null
      if (saved?.body) {
        body.value = saved.body
        internal.value = !!saved.internal
        interrupted.value = saved.sending ?? null
      }
    }
    catch { /* an unreadable draft is no draft */ }
  })
  watch([body, internal], () => import.meta.client && save())
  /** Marks (or unmarks) a send in flight, kept with the draft. */
  function markSending(value: Draft['sending'] | undefined) {
    sending = value
    interrupted.value = null
    save()
  }
  /** After sending: the box is empty again and back to a public reply. */
  function clear() {
    sending = undefined
    body.value = ''
    internal.value = false
    localStorage.removeItem(keyOf(toValue(ticketId)))
  }
  return { body, internal, interrupted, markSending, clear }
}

/** The text as a Markdown quote, for "quote this reply". */
export function quoteMarkdown(text: string, author?: string): string {
  const quoted = text.trimEnd().split('\n').map(line => (line ? `> ${line}` : '>')).join('\n')
  return `${author ? `${author} wrote:\n` : ''}${quoted}\n\n`
}
