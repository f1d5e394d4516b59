import type { Readable } from 'node:stream'
import type { H3Event } from 'h3'
import { sendRedirect, sendStream, setResponseHeaders } from 'h3'

export type FileDownload = { redirect: string } | { stream: Readable, size: number, contentType: string, contentDisposition: string }

/** Answers with a stored file, always as a download: a redirect to the store's signed URL, or a stream from disk. */
export function sendDownload(event: H3Event, file: FileDownload) {
  setResponseHeaders(event, { 'Cache-Control': 'private, no-store' })
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
}
