import { consumesJobs, startJobs, stopJobs } from '#server/services/jobs'
import { deliverMail, sweepOutbox } from '#server/services/mail/outbox'
import { closeMailTransport } from '#server/services/mail/transport'
import { useConfig } from '#server/utils/config'
import { useLogger } from '#server/utils/logger'
import { pendingUploadCleanup } from '#server/services/attachment-jobs'
import { inboundSweep, processInbound } from '#server/services/mail/inbound/jobs'
import { flushSearchIndex } from '#server/services/search-jobs'

// Every job, named here so each is registered (and bundled) before the runner starts.
const jobs = [pendingUploadCleanup, deliverMail, sweepOutbox, processInbound, inboundSweep, flushSearchIndex]

/**
 * Starts the job runner in the worker (PROCESS_ROLE=worker, `npm run worker`) and, per
 * JOBS_IN_PROCESS, in the app. Other processes only enqueue.
 */
export default defineNitroPlugin((nitroApp) => {
  const config = useConfig()
  if (!consumesJobs(config, config.PROCESS_ROLE)) return
  startJobs(jobs).catch((error: Error) => {
    useLogger().fatal({ err: error }, `background jobs could not start: ${error.message}`)
    process.exit(1)
  })
  nitroApp.hooks.hook('close', async () => {
    await stopJobs()
    closeMailTransport()
  })
})
