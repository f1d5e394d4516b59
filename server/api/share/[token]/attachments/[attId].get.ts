import { openSharedAttachment } from '#server/services/share-links'
import { sendDownload } from '#server/utils/download'
import { actorOf } from '#server/utils/principal'

/** A file of a shared ticket, for anyone holding a valid link. */
export default defineEventHandler(async (event) => {
  return sendDownload(event, await openSharedAttachment(actorOf(event), getRouterParam(event, 'token')!, getRouterParam(event, 'attId')!))
})
