import { sql } from 'drizzle-orm'
import { useDb } from '../db/client'
import { useConfig } from '../utils/config'
import { defineJob } from './jobs'

/**
 * Merges the pending list of the documents' search index every SEARCH_FLUSH_INTERVAL seconds
 * (migration 0029): a comment's words are appended there, which is cheap, and merged here
 * instead of in whichever request fills the list (docs/search.md, "Costs"). Searches read the
 * list too, so nothing waits for this to be found; every consuming process may run it. One
 * statement, no transaction: `search_flush()` runs as the index's owner and reads no table.
 */
export const flushSearchIndex = defineJob('search.flush', async () => {
  await (await useDb()).execute(sql`select search_flush()`)
}, { attempts: 1, every: () => useConfig().SEARCH_FLUSH_INTERVAL * 1000 })
