import { timingSafeEqual, createHash } from 'node:crypto'
import { useConfig } from '#server/utils/config'
import { registry } from '#server/utils/metrics'

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Prometheus text format; with METRICS_TOKEN set, only for `Authorization: Bearer <it>`. In
 * production a token is needed unless METRICS_ALLOW_ANONYMOUS=true says the network guards it.
 */
export default defineEventHandler(async (event) => {
  const { METRICS_TOKEN, METRICS_ALLOW_ANONYMOUS, production } = useConfig()
  if (METRICS_TOKEN) {
    const presented = getRequestHeader(event, 'authorization') ?? ''
    if (!timingSafeEqual(digest(presented), digest(`Bearer ${METRICS_TOKEN}`))) {
      setResponseHeader(event, 'WWW-Authenticate', 'Bearer realm="metrics"')
      throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Metrics need the metrics token.' })
    }
  }
  else if (production && !METRICS_ALLOW_ANONYMOUS) {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Metrics are off: set METRICS_TOKEN (or METRICS_ALLOW_ANONYMOUS=true).' })
  }
  setResponseHeader(event, 'Content-Type', registry.contentType)
  setResponseHeader(event, 'Cache-Control', 'no-store')
  return registry.metrics()
})
