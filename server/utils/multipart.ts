// The app tsconfig reaches this file through typed routes; point it at the local busboy types too.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../types/busboy.d.ts" />
import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { PassThrough } from 'node:stream'
import busboy from 'busboy'
import { badRequest } from '#server/utils/errors'

export interface IncomingFile {
  filename: string
  mimeType: string
  stream: Readable
  /** Text fields sent before the file part. */
  fields: Record<string, string>
}

const invalid = (field: string, problem: string) => badRequest({ field, problem })

/**
 * Streams the one file of a multipart/form-data request (field `fieldName`) into `handle` as it
 * arrives, without holding it in memory. Other files are skipped; the result is `handle`'s.
 */
export function receiveFile<T>(req: IncomingMessage, fieldName: string, maxBytes: number, handle: (file: IncomingFile) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let parser: busboy.Busboy
    try {
      // One byte over the limit reaches the handler, so it can tell "too large" from "exactly the limit".
      // Browsers send the file name as raw UTF-8; busboy's default (latin1) would garble "Prüfbericht – 日本.pdf".
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { files: 1, fields: 10, fieldSize: 1024, fileSize: maxBytes + 1, headerPairs: 50 } })
    }
    catch {
      return reject(invalid(fieldName, 'must be sent as multipart/form-data'))
    }
    const fields: Record<string, string> = {}
    let handling: Promise<T> | undefined
    let current: PassThrough | undefined
    parser.on('field', (name, value) => (fields[name] = value))
    parser.on('file', (name, stream, info) => {
      if (name !== fieldName || handling) return stream.resume()
      // The handler gets its own stream: when it stops early (destroying it), the rest of the
      // part is drained instead, so the request always ends and the answer can be sent.
      const own = new PassThrough()
      own.on('close', () => {
        stream.unpipe(own)
        stream.resume()
      })
      stream.pipe(own)
      current = own
      handling = handle({ filename: info.filename ?? '', mimeType: info.mimeType, stream: own, fields })
      handling.catch(() => own.destroy())
    })
    parser.on('error', () => reject(invalid(fieldName, 'was not sent as a well-formed multipart body')))
    parser.on('close', () => {
      if (!handling) return reject(invalid(fieldName, 'is required'))
      handling.then(resolve, reject)
    })
    // A client that goes away mid-file fails the handler too, so it can remove what it stored.
    const gone = () => {
      current?.destroy(new Error('the client closed the connection'))
      if (handling) handling.then(resolve, reject)
      else reject(invalid(fieldName, 'was not uploaded completely (the connection closed)'))
    }
    req.on('aborted', gone)
    req.on('error', gone)
    req.pipe(parser)
  })
}
