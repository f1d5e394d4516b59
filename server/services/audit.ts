import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import { z } from 'zod'
import { useDb } from '../db/client'
import { auditLog, userOrgs, users } from '../db/schema'
import { cursorNumber, pageOf } from '../utils/cursor'
import { auditActions } from '#shared/types/admin'
import type { AuditAction, AuditLogEntry } from '#shared/types/admin'
import { hasRole } from '#shared/utils/roles'
import type { Actor, Principal } from '#server/utils/principal'

export { auditActions }
export type { AuditAction }

export interface AuditEntry {
  action: AuditAction
  target?: { type: string, id: string }
  details?: Record<string, unknown>
}

/**
 * The one place security events are written, by services only: `actor` is who did it and from
 * which client address (`actorOf(event, principal)` in the handler), null for the system itself.
 */
export async function audit(actor: Actor | null, entry: AuditEntry): Promise<void> {
  const db = await useDb()
  await db.insert(auditLog).values({
    action: entry.action,
    actorId: actor?.actorId ?? null,
    targetType: entry.target?.type,
    targetId: entry.target?.id,
    ip: actor?.ip ?? null,
    details: entry.details ?? {},
  })
}

export const auditQuerySchema = (maxPageSize: number) => z.object({
  action: z.enum(auditActions).optional(),
  actor: z.uuid().optional(),
  target: z.string().max(100).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(maxPageSize).default(Math.min(50, maxPageSize)),
})
export type AuditQuery = z.infer<ReturnType<typeof auditQuerySchema>>

/**
 * Admins read every entry; managers only those of their organisations: by or about a member of
 * one of them, or about one of the organisations themselves.
 */
function auditScope(principal: Pick<Principal, 'roles' | 'orgIds'>): SQL | undefined {
  if (hasRole(principal.roles, 'admin')) return undefined
  if (!principal.orgIds.length) return sql`false`
  const members = sql`select ${userOrgs.userId} from ${userOrgs} where ${inArray(userOrgs.orgId, principal.orgIds)}`
  return or(
    sql`${auditLog.actorId} in (${members})`,
    and(eq(auditLog.targetType, 'user'), sql`${auditLog.targetId} in (select ${userOrgs.userId}::text from ${userOrgs} where ${inArray(userOrgs.orgId, principal.orgIds)})`),
    and(eq(auditLog.targetType, 'org'), inArray(auditLog.targetId, principal.orgIds)),
  )
}

/** Newest first, keyset-paginated, within what the caller may read. */
export async function listAudit(principal: Principal, query: AuditQuery): Promise<{ data: AuditLogEntry[], meta: { nextCursor: string | null, limit: number } }> {
  const db = await useDb()
  const actor = alias(users, 'actor')
  const rows = await db.select({
    seq: auditLog.seq,
    at: auditLog.at,
    action: auditLog.action,
    actor: { id: actor.id, name: actor.name, email: actor.email },
    targetType: auditLog.targetType,
    targetId: auditLog.targetId,
    ip: auditLog.ip,
    details: auditLog.details,
  }).from(auditLog).leftJoin(actor, eq(actor.id, auditLog.actorId))
    .where(and(
      auditScope(principal),
      query.action ? eq(auditLog.action, query.action) : undefined,
      query.actor ? eq(auditLog.actorId, query.actor) : undefined,
      query.target ? eq(auditLog.targetId, query.target) : undefined,
      query.cursor ? lt(auditLog.seq, cursorNumber(query.cursor, 'bigint')) : undefined,
    ))
    .orderBy(desc(auditLog.seq)).limit(query.limit + 1)
  const page = pageOf(rows, query.limit, r => [r.seq])
  return { data: page.data.map(({ seq, at, ...r }) => ({ id: String(seq), at: at.toISOString(), ...r })), meta: page.meta }
}
