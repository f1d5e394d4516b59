import type { H3Event } from 'h3'
import { createError, setResponseHeader } from 'h3'

/**
 * The request body, read while counting its bytes: past `limit` the request is answered 413 at
 * once (Content-Length or not, chunked or not) and nothing more is kept, so memory stays flat.
 * Use it for every body that is read whole (JSON, raw messages); streamed uploads count their own.
 */
export function readLimitedBody(event: H3Event, limit: number): Promise<Buffer> {
  const req = event.node.req
  const tooLarge = () => {
    // The rest of the body is not wanted: the connection closes after the answer.
    setResponseHeader(event, 'Connection', 'close')
    return createError({ statusCode: 413, statusMessage: 'Payload Too Large', message: `The request body is larger than ${limit} bytes.` })
  }
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) return void chunks.push(chunk)
      req.off('data', onData)
      req.off('end', onEnd)
      chunks.length = 0
      reject(tooLarge())
    }
    const onEnd = () => resolve(Buffer.concat(chunks))
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('error', reject)
  })
}
