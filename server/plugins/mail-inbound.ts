import { consumesJobs } from '#server/services/jobs'
import { sweepQueuedInbound } from '#server/services/mail/inbound/jobs'
import { startMailboxReader } from '#server/services/mail/inbound/mailbox'
import { useConfig } from '#server/utils/config'
import { useLogger } from '#server/utils/logger'

/**
 * Where jobs run (the worker; the app itself without Redis): the IMAP mailbox reader, and a
 * first sweep for mail that was stored but not processed when the last process stopped.
 */
export default defineNitroPlugin((nitroApp) => {
  const config = useConfig()
  if (!consumesJobs(config, config.PROCESS_ROLE)) return
  sweepQueuedInbound().catch((error: Error) => useLogger().warn({ err: error }, 'could not look for unprocessed inbound mail'))
  const reader = startMailboxReader(config)
  if (reader) nitroApp.hooks.hook('close', () => reader.stop())
})
