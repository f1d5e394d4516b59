import { z } from 'zod'

export const ticketStatuses = ['new', 'open', 'pending', 'resolved', 'closed'] as const
export const ticketPriorities = ['low', 'normal', 'high', 'urgent'] as const
export type TicketStatus = (typeof ticketStatuses)[number]
export type TicketPriority = (typeof ticketPriorities)[number]

/** The statuses a requester may move their own ticket to. */
export const requesterStatuses: readonly TicketStatus[] = ['open', 'resolved', 'closed']

const text = (max: number) => z.string({ error: i => (i.input === undefined ? 'is required' : 'must be text') }).trim().min(1, 'is required').max(max, `must be at most ${max} characters`)
const tag = z.string().trim().toLowerCase().min(1).max(40).regex(/^[\p{L}\p{N}_.-]+$/u, 'letters, digits, _ . - only')

export const ticketCreateSchema = z.object({
  title: text(200),
  body: text(20_000),
  priority: z.enum(ticketPriorities).optional(),
  org: z.string().trim().min(1).max(64).optional(),
})

export const ticketUpdateSchema = z.object({
  title: text(200).optional(),
  status: z.enum(ticketStatuses).optional(),
  priority: z.enum(ticketPriorities).optional(),
  assigneeId: z.uuid().nullable().optional(),
  tags: z.array(tag).max(20).optional(),
}).refine(v => Object.values(v).some(x => x !== undefined), 'nothing to change')

export const commentCreateSchema = z.object({
  body: text(20_000),
  internal: z.boolean().optional().default(false),
  // The newest thread entry the author had seen (its createdAt): newer replies or status changes by others → 409.
  seenUpTo: z.iso.datetime({ offset: true, error: 'must be a date and time' }).optional(),
  // Send anyway, after being shown what is newer.
  confirm: z.boolean().optional().default(false),
})

export type TicketCreate = z.infer<typeof ticketCreateSchema>
export type TicketUpdate = z.infer<typeof ticketUpdateSchema>
export type CommentCreate = z.infer<typeof commentCreateSchema>

export interface PersonRef { id: string, name: string }

export interface Ticket {
  id: string
  number: number
  title: string
  body: string
  status: TicketStatus
  priority: TicketPriority
  tags: string[]
  requester: PersonRef
  assignee: PersonRef | null
  org: { slug: string, name: string } | null
  createdAt: string
  updatedAt: string
  /** The description's Markdown as sanitised HTML (single ticket reads). */
  bodyHtml?: string
}

export interface Comment {
  id: string
  body: string
  /** The body's Markdown as sanitised HTML. */
  html: string
  internal: boolean
  author: PersonRef
  createdAt: string
}

export interface TicketEvent {
  id: string
  type: 'created' | 'status' | 'priority' | 'assignee' | 'title' | 'tags'
  from: unknown
  to: unknown
  actor: PersonRef | null
  createdAt: string
}

export interface Page<T> { data: T[], meta: { nextCursor: string | null, limit: number } }

/** An entry of the thread that appeared after what a reply's author had seen (the 409 of a reply). */
export type NewerEntry = { kind: 'comment', comment: Comment } | { kind: 'event', event: TicketEvent }
