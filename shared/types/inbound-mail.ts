/** What became of a received message (GET /api/admin/mail/inbound/:id). */
export type InboundState = 'queued' | 'processed' | 'ignored' | 'failed'
export type InboundResult = 'created' | 'appended' | 'bounce' | 'duplicate'

export interface InboundOutcome {
  id: string
  state: InboundState
  result: InboundResult | null
  ticketId: string | null
  reason: string | null
}

/** A row of the inbound log (GET /api/admin/mail/inbound). */
export interface InboundLogEntry extends InboundOutcome {
  source: string
  messageId: string | null
  from: string | null
  subject: string | null
  size: number
  ticketNumber: number | null
  receivedAt: string
  processedAt: string | null
}
