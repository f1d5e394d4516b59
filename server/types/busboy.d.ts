// busboy ships without types and @types/busboy is not installed; this covers what the server uses.
declare module 'busboy' {
  import type { IncomingHttpHeaders } from 'node:http'
  import type { Readable, Writable } from 'node:stream'

  namespace busboy {
    interface Limits { fieldNameSize?: number, fieldSize?: number, fields?: number, fileSize?: number, files?: number, parts?: number, headerPairs?: number }
    interface Config { headers: IncomingHttpHeaders, limits?: Limits, defParamCharset?: string, preservePath?: boolean }
    interface FileInfo { filename: string | undefined, encoding: string, mimeType: string }
    interface Busboy extends Writable {
      on(event: 'file', listener: (name: string, stream: Readable & { truncated?: boolean }, info: FileInfo) => void): this
      on(event: 'field', listener: (name: string, value: string) => void): this
      on(event: 'close' | 'finish' | 'partsLimit' | 'filesLimit' | 'fieldsLimit', listener: () => void): this
      on(event: 'error', listener: (error: Error) => void): this
    }
  }
  function busboy(config: busboy.Config): busboy.Busboy
  export default busboy
}
