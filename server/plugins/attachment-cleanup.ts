import { cleanUpPendingUploads } from '../services/attachments'
import { useConfig } from '../utils/config'
import { useLogger } from '../utils/logger'

/**
 * Every ATTACHMENT_CLEANUP_INTERVAL seconds, removes uploads that were announced but never
 * completed. Runs in each replica (the job is safe to run concurrently) until the worker owns it.
 */
export default defineNitroPlugin((nitroApp) => {
  const { ATTACHMENT_CLEANUP_INTERVAL } = useConfig()
  let running = false
  const timer = setInterval(async () => {
    if (running) return
    running = true
    try {
      const removed = await cleanUpPendingUploads()
      if (removed) useLogger().info({ removed }, 'removed abandoned uploads')
    }
    catch (error) {
      useLogger().error({ err: error }, 'cleaning up abandoned uploads failed')
    }
    finally {
      running = false
    }
  }, ATTACHMENT_CLEANUP_INTERVAL * 1000)
  // Never keeps the process alive on its own, and stops with the server.
  timer.unref()
  nitroApp.hooks.hook('close', () => clearInterval(timer))
})
