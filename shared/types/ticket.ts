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
}

export interface Comment {
  id: string
  body: string
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

/** Orders of the ticket list; `relevance` (the default with `q`) puts number and title hits first. */
export const ticketSorts = ['updated', 'created', 'priority', 'number', 'relevance'] as const
export type TicketSort = (typeof ticketSorts)[number]

/** Counts are exact up to this many matches; above it `meta.total` is this and `totalCapped` is true. */
export const TICKET_TOTAL_CAP = 10_000

/** A ticket in a list: `unread` when someone else changed it since the caller last opened it. */
export interface TicketListItem extends Ticket { unread: boolean }

export interface TicketListResponse {
  data: TicketListItem[]
  meta: {
    nextCursor: string | null
    limit: number
    total: number
    totalCapped: boolean
    /** Set when `q` is a ticket number (`1042`, `#1042`) of a ticket the caller may see: open it directly. */
    jump: { id: string, number: number } | null
  }
}
