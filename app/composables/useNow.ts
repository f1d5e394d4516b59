/**
 * The time relative dates are shown against ("3 minutes ago"). Server and client start from the
 * same instant (so hydration matches), then the client ticks on, so the words stay true.
 */
export function useNow(everyMs = 30_000) {
  const start = useState('now', () => Date.now())
  const now = ref(start.value)
  let timer: ReturnType<typeof setInterval> | undefined
  onMounted(() => {
    now.value = Date.now()
    timer = setInterval(() => (now.value = Date.now()), everyMs)
  })
  onBeforeUnmount(() => clearInterval(timer))
  return now
}
