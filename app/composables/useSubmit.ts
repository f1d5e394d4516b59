/**
 * A form's action: `busy` while it runs (one at a time), `error` with a readable message when
 * it fails. The form keeps what was typed, so nothing is lost on a failed send.
 */
export function useSubmit() {
  const busy = ref(false)
  const error = ref('')
  async function run(action: () => Promise<unknown>, failed: string): Promise<void> {
    if (busy.value) return
    busy.value = true
    error.value = ''
    try {
      await action()
    }
    catch (e) {
      error.value = errorMessage(e, failed)
    }
    finally {
      busy.value = false
    }
  }
  return { busy, error, run }
}
