import { useConfig } from '../utils/config'
import { useLogger } from '../utils/logger'
import { cleanUpPendingUploads } from './attachments'
import { defineJob } from './jobs'

/** Removes uploads that were announced but never completed, every ATTACHMENT_CLEANUP_INTERVAL seconds. */
export const pendingUploadCleanup = defineJob('attachments.cleanup', async () => {
  const removed = await cleanUpPendingUploads()
  if (removed) useLogger().info({ removed }, 'removed abandoned uploads')
}, { attempts: 1, every: () => useConfig().ATTACHMENT_CLEANUP_INTERVAL * 1000 })
