import type { TicketPriority, TicketStatus } from '../utils/tickets'

/** `GET /api/admin/overview`: figures within what the caller may see. */
export interface Overview {
  byStatus: Record<TicketStatus, number>
  openByPriority: Record<TicketPriority, number>
  perDay: { day: string, created: number, resolved: number }[]
  medianFirstResponseSeconds: number | null
  /** Admins only: active tickets that no active agent or manager could see (null for others). */
  unseen: { count: number, tickets: { id: string, number: number, title: string }[] } | null
}

export const auditActions = [
  'sign_in', 'sign_in_failed', 'sign_out', 'user_created', 'user_changed', 'sessions_revoked',
  'settings_changed', 'share_link_created', 'share_link_revoked', 'share_link_used',
  'org_created', 'org_changed', 'org_deleted',
  'password_reset_requested', 'password_reset', 'password_changed',
] as const
export type AuditAction = (typeof auditActions)[number]

/** `GET /api/admin/audit`: one entry of the audit log. */
export interface AuditLogEntry {
  id: string
  at: string
  action: string
  actor: { id: string, name: string, email: string } | null
  targetType: string | null
  targetId: string | null
  ip: string | null
  details: unknown
}
