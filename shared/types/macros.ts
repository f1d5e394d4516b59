import { z } from 'zod'
import { macroPlaceholders, unknownPlaceholders } from '../utils/macros'
import { ticketPriorities, ticketStatuses } from '../utils/tickets'

const tag = z.string().trim().toLowerCase().min(1).max(40).regex(/^[\p{L}\p{N}_.-]+$/u, 'letters, digits, _ . - only')

export const macroChangesSchema = z.object({
  status: z.enum(ticketStatuses, `must be one of ${ticketStatuses.join(', ')}`).optional(),
  priority: z.enum(ticketPriorities, `must be one of ${ticketPriorities.join(', ')}`).optional(),
  addTags: z.array(tag).max(20).optional(),
}).strict()

const body = z.string({ error: i => (i.input === undefined ? 'is required' : 'must be text') }).trim().min(1, 'is required').max(20_000, 'must be at most 20000 characters')
  .superRefine((v, ctx) => {
    const unknown = unknownPlaceholders(v)
    if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown placeholder ${unknown.map(p => `{{${p}}}`).join(', ')}; use ${macroPlaceholders.map(p => `{{${p}}}`).join(', ')}` })
  })
const name = z.string({ error: i => (i.input === undefined ? 'is required' : 'must be text') }).trim().min(1, 'is required').max(80, 'must be at most 80 characters')

export const macroCreateSchema = z.object({ name, body, changes: macroChangesSchema.default({}) })
export const macroUpdateSchema = z.object({ name: name.optional(), body: body.optional(), changes: macroChangesSchema.optional() })
  .refine(v => Object.values(v).some(x => x !== undefined), 'nothing to change')

export type MacroChanges = z.infer<typeof macroChangesSchema>
export type MacroCreate = z.infer<typeof macroCreateSchema>
export type MacroUpdate = z.infer<typeof macroUpdateSchema>

export interface Macro {
  id: string
  name: string
  body: string
  changes: MacroChanges
  createdAt: string
  updatedAt: string
}
