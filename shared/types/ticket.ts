import { z } from 'zod'
import { requesterRefSchema } from './user'

import type { TicketEventType, TicketPriority, TicketStatus } from '../utils/tickets'
import { ticketPriorities, ticketStatuses } from '../utils/tickets'

const text = (max: number) => z.string({ error: i => (i.input === undefined ? 'is required' : 'must be text') }).trim().min(1, 'is required').max(max, `must be at most ${max} characters`)
const tag = z.string().trim().toLowerCase().min(1, 'is empty').max(40, 'must be at most 40 characters').regex(/^[\p{L}\p{N}_.-]+$/u, 'may only contain letters, digits, _ . and -')

export const ticketCreateSchema = z.object({
  title: text(200),
  body: text(20_000),
  priority: z.enum(ticketPriorities, { error: `must be one of ${ticketPriorities.join(', ')}` }).optional(),
  org: z.string().trim().min(1, 'is required').max(64, 'must be at most 64 characters').optional(),
  // Staff only: the person the ticket is for (the history records who opened it).
  requester: requesterRefSchema.optional(),
})

export const ticketUpdateSchema = z.object({
  title: text(200).optional(),
  status: z.enum(ticketStatuses, { error: `must be one of ${ticketStatuses.join(', ')}` }).optional(),
  priority: z.enum(ticketPriorities, { error: `must be one of ${ticketPriorities.join(', ')}` }).optional(),
  assigneeId: z.uuid({ error: 'is not a person you can choose' }).nullable().optional(),
  tags: z.array(tag).max(20, 'may be at most 20').optional(),
}).refine(v => Object.values(v).some(x => x !== undefined), 'has nothing to change')

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
  type: TicketEventType
  from: unknown
  to: unknown
  actor: PersonRef | null
  createdAt: string
}

export interface Page<T> { data: T[], meta: { nextCursor: string | null, limit: number } }

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

/** An entry of the thread that appeared after what a reply's author had seen (the 409 of a reply). */
export type NewerEntry = { kind: 'comment', comment: Comment } | { kind: 'event', event: TicketEvent }
