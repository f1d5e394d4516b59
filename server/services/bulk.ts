import type { BulkOutcome, BulkUpdate } from '../../shared/types/bulk'
import type { TicketUpdate } from '../../shared/types/ticket'
import type { Principal } from '../utils/principal'
import { getTicket, updateTicket } from './tickets'

const outcomeOf: Record<number, BulkOutcome['outcome']> = { 404: 'not_found', 403: 'forbidden', 400: 'invalid' }

/**
 * The same change on many tickets, one at a time through the one update path (its rules and its
 * history), so each ticket's outcome stands on its own: one refused ticket stops none of the others.
 */
export async function bulkUpdate(principal: Principal, input: BulkUpdate): Promise<BulkOutcome[]> {
  const { addTags = [], removeTags = [], ...fields } = input.set
  const outcomes: BulkOutcome[] = []
  for (const id of new Set(input.ids)) {
    try {
      const before = await getTicket(principal, id)
      const patch: TicketUpdate = { ...fields }
      if (addTags.length || removeTags.length) patch.tags = [...new Set([...before.tags.filter(t => !removeTags.includes(t)), ...addTags])]
      const ticket = await updateTicket(principal, id, patch)
      outcomes.push({ id, outcome: ticket.updatedAt === before.updatedAt ? 'unchanged' : 'updated', ticket })
    }
    catch (error) {
      const status = (error as { statusCode?: number }).statusCode ?? 500
      const outcome = outcomeOf[status]
      if (!outcome) throw error
      // A hidden ticket is reported exactly like one that does not exist.
      outcomes.push({ id, outcome, ...(outcome === 'not_found' ? {} : { message: (error as Error).message }) })
    }
  }
  return outcomes
}
