// Ticket values the browser needs, kept free of zod so the schemas in shared/types stay out of
// the page bundles (the ticket page's initial JavaScript is budgeted, bench/bundle.mjs).
export const ticketStatuses = ['new', 'open', 'pending', 'resolved', 'closed'] as const
export const ticketPriorities = ['low', 'normal', 'high', 'urgent'] as const
export type TicketStatus = (typeof ticketStatuses)[number]
export type TicketPriority = (typeof ticketPriorities)[number]

/** The statuses a requester may move their own ticket to. */
export const requesterStatuses: readonly TicketStatus[] = ['open', 'resolved', 'closed']

/** Kinds of history entries; what requesters see of each is decided in server/services/visibility.ts. */
export const ticketEventTypes = ['created', 'status', 'priority', 'assignee', 'title', 'tags'] as const
export type TicketEventType = (typeof ticketEventTypes)[number]

/** Orders of the ticket list; `relevance` (the default with `q`) puts number and title hits first. */
export const ticketSorts = ['updated', 'created', 'priority', 'number', 'relevance'] as const
export type TicketSort = (typeof ticketSorts)[number]

/** Counts are exact up to this many matches; above it `meta.total` is this and `totalCapped` is true. */
export const TICKET_TOTAL_CAP = 10_000
