/** The worker's liveness probe (the app's is /healthz): the process answers, nothing else is touched. */
export default defineEventHandler(() => ({ status: 'ok' }))
