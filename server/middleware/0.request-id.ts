import { randomUUID } from 'node:crypto'

const sane = /^[\w.:-]{1,128}$/

/** Every response carries X-Request-Id: the caller's when it is sane, else a new one. */
export default defineEventHandler((event) => {
  const incoming = getRequestHeader(event, 'x-request-id')
  const id = incoming && sane.test(incoming) ? incoming : randomUUID()
  event.context.requestId = id
  event.context.startedAt = performance.now()
  setResponseHeader(event, 'X-Request-Id', id)
})

declare module 'h3' {
  interface H3EventContext {
    startedAt?: number
  }
}
