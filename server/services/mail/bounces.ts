import { and, desc, eq, isNotNull } from 'drizzle-orm'
import type { Actor } from '#server/utils/principal'
import { createError } from 'h3'
import { useDb } from '../../db/client'
import { users } from '../../db/schema'
import { audit } from '../audit'

/** Addresses that bounced: they get no mail until an admin clears them. */
export async function listBounced() {
  const db = await useDb()
  const rows = await db.select({ id: users.id, name: users.name, email: users.email, bouncedAt: users.emailBouncedAt }).from(users)
    .where(isNotNull(users.emailBouncedAt)).orderBy(desc(users.emailBouncedAt)).limit(200)
  return { data: rows.map(r => ({ ...r, bouncedAt: r.bouncedAt!.toISOString() })) }
}

export async function clearBounce(actor: Actor, userId: string): Promise<void> {
  const db = await useDb()
  const rows = await db.update(users).set({ emailBouncedAt: null, updatedAt: new Date() })
    .where(and(eq(users.id, userId), isNotNull(users.emailBouncedAt))).returning({ id: users.id })
  if (!rows.length) throw createError({ statusCode: 404, statusMessage: 'Not Found', message: 'This address is not marked as bounced.' })
  await audit(actor, { action: 'user_changed', target: { type: 'user', id: userId }, details: { emailBounced: 'cleared' } })
}
