/** Liveness: the process answers; touches nothing else. */
export default defineEventHandler(() => ({ status: 'ok' }))
