import { openDownload } from '#server/services/attachments'
import { sendDownload } from '#server/utils/download'
import { requirePrincipal } from '#server/utils/principal'

/** The file, always as a download with its original name: a redirect to S3 or a stream from disk. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  return sendDownload(event, await openDownload(principal, getRouterParam(event, 'id')!, getRouterParam(event, 'attId')!))
})
