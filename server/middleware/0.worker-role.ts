import { useConfig } from '#server/utils/config'

// The worker serves its probes only: no pages, no API.
const workerPaths = new Set(['/health', '/ready'])

export default defineEventHandler((event) => {
  if (useConfig().PROCESS_ROLE !== 'worker') return
  if (!workerPaths.has(event.path.split('?')[0]!)) {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'This is the worker; it serves /health and /ready only.' })
  }
})
