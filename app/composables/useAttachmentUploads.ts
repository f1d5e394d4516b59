import type { Attachment, PresignedUpload } from '#shared/types/attachment'

export interface UploadItem {
  key: string
  name: string
  size: number
  /** 0…100 */
  progress: number
  status: 'uploading' | 'failed'
  error: string
  cancel: () => void
}

class UploadCancelled extends Error {}

/** PUTs the file with XMLHttpRequest, the one browser API that reports upload progress. */
function putWithProgress(upload: PresignedUpload['upload'], file: File, onProgress: (percent: number) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open(upload.method, upload.url)
    for (const [name, value] of Object.entries(upload.headers)) xhr.setRequestHeader(name, value)
    xhr.upload.onprogress = e => e.lengthComputable && onProgress(Math.round((e.loaded / e.total) * 100))
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`The storage refused the file (HTTP ${xhr.status}).`)))
    xhr.onerror = () => reject(new Error('The upload was interrupted. Check your connection and try again.'))
    xhr.onabort = () => reject(new UploadCancelled())
    signal.addEventListener('abort', () => xhr.abort())
    xhr.send(file)
  })
}

/**
 * Uploads files to a ticket (or to one of its comments): presign → PUT with progress → complete.
 * `items` holds the uploads in flight and the failed ones, for the progress list.
 */
export function useAttachmentUploads(ticketId: () => string) {
  const items = ref<UploadItem[]>([])
  let counter = 0

  const remove = (key: string) => (items.value = items.value.filter(i => i.key !== key))

  async function upload(file: File, commentId?: string): Promise<Attachment | null> {
    const controller = new AbortController()
    const item = reactive<UploadItem>({ key: `u${++counter}`, name: file.name, size: file.size, progress: 0, status: 'uploading', error: '', cancel: () => controller.abort() })
    items.value = [...items.value, item]
    const base = `/api/tickets/${ticketId()}/attachments`
    let attachmentId: string | undefined
    try {
      const presigned = await $fetch<PresignedUpload>(`${base}/presign`, {
        method: 'POST',
        body: { filename: file.name, contentType: file.type || 'application/octet-stream', size: file.size, commentId },
        signal: controller.signal,
      })
      attachmentId = presigned.attachment.id
      await putWithProgress(presigned.upload, file, p => (item.progress = p), controller.signal)
      const ready = await $fetch<Attachment>(`${base}/${attachmentId}/complete`, { method: 'POST' })
      remove(item.key)
      return ready
    }
    catch (e) {
      if (controller.signal.aborted) {
        remove(item.key)
        // A cancelled upload leaves nothing behind.
        if (attachmentId) await $fetch(`${base}/${attachmentId}`, { method: 'DELETE' }).catch(() => {})
        return null
      }
      item.status = 'failed'
      item.error = e instanceof Error && !('data' in e) ? e.message : errorMessage(e, 'The file was not uploaded.')
      return null
    }
  }

  return { items, upload, dismiss: remove }
}
