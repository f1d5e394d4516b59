import { z } from 'zod'
import { ticketPriorities, ticketSorts, ticketStatuses } from '../utils/tickets'

const commaOf = (values: readonly string[], label: string) =>
  z.string().trim().max(200).refine(v => v.split(',').every(s => values.includes(s.trim())), `must be ${label}`)

/** A queue's filters as the list API takes them (`/api/tickets?…`). */
export const viewFiltersSchema = z.object({
  status: commaOf(ticketStatuses, 'statuses separated by commas').optional(),
  priority: commaOf(ticketPriorities, 'priorities separated by commas').optional(),
  assignee: z.union([z.literal('me'), z.literal('none'), z.uuid()], 'must be me, none or a user').optional(),
  q: z.string().trim().max(200).optional(),
  sort: z.enum(ticketSorts, `must be one of ${ticketSorts.join(', ')}`).optional(),
}).strict()

const name = z.string({ error: i => (i.input === undefined ? 'is required' : 'must be text') }).trim().min(1, 'is required').max(80, 'must be at most 80 characters')

export const viewCreateSchema = z.object({
  name,
  filters: viewFiltersSchema.default({}),
  shared: z.boolean().default(false),
})
export const viewUpdateSchema = z.object({
  name: name.optional(),
  filters: viewFiltersSchema.optional(),
  shared: z.boolean().optional(),
}).refine(v => Object.values(v).some(x => x !== undefined), 'nothing to change')

export type ViewFilters = z.infer<typeof viewFiltersSchema>
export type ViewCreate = z.infer<typeof viewCreateSchema>
export type ViewUpdate = z.infer<typeof viewUpdateSchema>

export interface SavedView {
  id: string
  name: string
  shared: boolean
  filters: ViewFilters
  owner: { id: string, name: string }
  /** Whether the caller may change or delete it. */
  editable: boolean
  createdAt: string
  updatedAt: string
}
