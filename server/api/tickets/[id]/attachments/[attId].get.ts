import { openDownload } from '../../../../services/attachments'
import { requirePrincipal } from '../../../../utils/principal'

/** The file, always as a download with its original name: a redirect to S3 or a stream from disk. */
export default defineEventHandler(async (event) => {
  const principal = await requirePrincipal(event)
  const file = await openDownload(principal, getRouterParam(event, 'id')!, getRouterParam(event, 'attId')!)
  setResponseHeader(event, 'Cache-Control', 'private, no-store')
  if ('redirect' in file) return sendRedirect(event, file.redirect, 302)
  setResponseHeaders(event, {
    'Content-Type': file.contentType,
    'Content-Length': String(file.size),
    'Content-Disposition': file.contentDisposition,
    'X-Content-Type-Options': 'nosniff',
    // Even if opened directly, an uploaded file never runs as part of this site.
    'Content-Security-Policy': 'default-src \'none\'; sandbox',
  })
  return sendStream(event, file.stream)
})
