import { timingSafeEqual, createHash } from 'node:crypto'
import { useConfig } from '../utils/config'
import { registry } from '../utils/metrics'

const digest = (value: string) => createHash('sha256').update(value).digest()

/** Prometheus text format; with METRICS_TOKEN set, only for `Authorization: Bearer <it>`. */
export default defineEventHandler(async (event) => {
  const { METRICS_TOKEN } = useConfig()
  if (METRICS_TOKEN) {
    const presented = getRequestHeader(event, 'authorization') ?? ''
    if (!timingSafeEqual(digest(presented), digest(`Bearer ${METRICS_TOKEN}`))) {
      setResponseHeader(event, 'WWW-Authenticate', 'Bearer realm="metrics"')
      throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Metrics need the metrics token.' })
    }
  }
  setResponseHeader(event, 'Content-Type', registry.contentType)
  setResponseHeader(event, 'Cache-Control', 'no-store')
  return registry.metrics()
})
