import { receiveSignedUpload } from '../../services/attachments'

/**
 * The local store's stand-in for a presigned S3 PUT: the signed URL is the permission (no session),
 * so the browser uploads the same way to either backend.
 */
export default defineEventHandler(async (event) => {
  await receiveSignedUpload(getRouterParam(event, 'token')!, getRequestHeader(event, 'content-type'), event.node.req)
  return { ok: true }
})
