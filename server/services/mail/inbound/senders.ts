import { eq, sql } from 'drizzle-orm'
import { orgs, userOrgs, users } from '#server/db/schema'
import { useDb } from '#server/db/client'
import { findUserWithOrgs } from '#server/services/users'
import type { UserWithOrgs } from '#server/services/users'

/** The user with this address (case-insensitive), or null. */
export async function knownSender(address: string): Promise<UserWithOrgs | null> {
  const db = await useDb()
  const [row] = await db.select({ id: users.id }).from(users).where(eq(sql`lower(${users.email})`, address.toLowerCase())).limit(1)
  return row ? findUserWithOrgs(row.id) : null
}

/**
 * The sender as a user: the known one, else a new requester without a password (they can be
 * invited or reset a password later), placed in the organisation whose mail domains include the
 * sender's domain.
 */
export async function senderAsUser(from: { address: string, name: string }): Promise<UserWithOrgs> {
  const known = await knownSender(from.address)
  if (known) return known
  const address = from.address.toLowerCase()
  const domain = address.slice(address.lastIndexOf('@') + 1)
  const db = await useDb()
  const created = await db.transaction(async (tx) => {
    const [user] = await tx.insert(users).values({ email: address, name: from.name.trim().slice(0, 200) || address.split('@')[0]! })
      .onConflictDoNothing({ target: users.email }).returning({ id: users.id })
    if (!user) return null
    const [org] = await tx.select({ id: orgs.id }).from(orgs).where(sql`${domain} = any(${orgs.emailDomains})`).orderBy(orgs.slug).limit(1)
    if (org) await tx.insert(userOrgs).values({ userId: user.id, orgId: org.id })
    return user.id
  })
  // Another message from the same new sender may have created the account a moment ago.
  return (created ? await findUserWithOrgs(created) : await knownSender(address))!
}
