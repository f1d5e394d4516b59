import type { TicketFacts } from '#server/services/visibility'

export type LiveEventType = 'ticket' | 'comment' | 'attachment' | 'presence'

/** One live event as the bus carries it: what subscribers get (`data`) and what decides who gets it. */
export interface LiveEnvelope {
  id: string
  type: LiveEventType
  ticket: TicketFacts & { id: string, number: number }
  /** Who could see the ticket before this change, when the change moved it (assignee). */
  before?: TicketFacts
  actorId: string | null
  /** Internal notes, files on them and presence never reach requesters, not even as a signal. */
  staffOnly: boolean
  /** `ticket` events: the fields that changed (status, priority, assignee, tags, title, created). */
  fields?: string[]
  data: Record<string, unknown>
}
