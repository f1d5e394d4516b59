import { z } from 'zod'
import { renderMarkdown } from '#shared/utils/markdown'
import { requirePrincipal } from '#server/utils/principal'
import { readInput } from '#server/utils/validation'

const previewSchema = z.object({ text: z.string('must be text').max(20_000, 'must be at most 20000 characters') })

/** The reply box's preview: the same renderer and allow-list as the thread, so what you see is what is sent. */
export default defineEventHandler(async (event) => {
  await requirePrincipal(event)
  const { text } = await readInput(event, previewSchema)
  return { html: renderMarkdown(text) }
})
