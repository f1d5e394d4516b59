import type { TicketStatus } from '../utils/tickets'

/** `GET /api/tickets/:id/share`: an active share link (the token itself is shown once, at creation). */
export interface ShareLink { id: string, expiresAt: string, createdAt: string, createdBy: { id: string, name: string } }

/** `POST /api/tickets/:id/share`. */
export interface CreatedShareLink { id: string, url: string, expiresAt: string }

/** `GET /api/share/:token`: what the public share page shows. */
export interface SharedTicket {
  ticket: { number: number, title: string, body: string, status: TicketStatus, createdAt: string }
  comments: { id: string, body: string, author: string, createdAt: string }[]
  attachments: { id: string, filename: string, size: number, contentType: string, commentId: string | null }[]
  expiresAt: string
}
