import { z } from 'zod'
import type { Ticket } from './ticket'
import { ticketPriorities, ticketStatuses } from '../utils/tickets'

const tag = z.string().trim().toLowerCase().min(1).max(40).regex(/^[\p{L}\p{N}_.-]+$/u, 'letters, digits, _ . - only')

export const bulkUpdateSchema = z.object({
  ids: z.array(z.string().trim().min(1).max(64), 'must be a list of ticket ids or numbers').min(1, 'choose at least one ticket').max(100, 'at most 100 tickets at once'),
  set: z.object({
    status: z.enum(ticketStatuses, `must be one of ${ticketStatuses.join(', ')}`).optional(),
    priority: z.enum(ticketPriorities, `must be one of ${ticketPriorities.join(', ')}`).optional(),
    assigneeId: z.uuid('must be a user').nullable().optional(),
    addTags: z.array(tag).max(20).optional(),
    removeTags: z.array(tag).max(20).optional(),
  }, 'is required').strict().refine(v => Object.values(v).some(x => x !== undefined), 'nothing to change'),
})
export type BulkUpdate = z.infer<typeof bulkUpdateSchema>

/** What happened to one ticket of a bulk change; tickets the caller cannot see are `not_found` and untouched. */
export interface BulkOutcome {
  id: string
  outcome: 'updated' | 'unchanged' | 'not_found' | 'forbidden' | 'invalid'
  ticket?: Ticket
  message?: string
}
