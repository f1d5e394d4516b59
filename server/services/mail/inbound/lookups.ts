import { and, eq, inArray } from 'drizzle-orm'
import { mailMessageIds, tickets } from '#server/db/schema'
import type { Database } from '#server/db/client'
import { ticketNumberFromAddress } from '#server/services/mail/addresses'
import type { UserWithOrgs } from '#server/services/users'
import { asPrincipal, asSystem, ticketVisibility } from '#server/services/visibility'
import { toPrincipal } from '#server/services/auth/resolve'
import type { ThreadLookups } from './threading'

/** The ticket whose thread has one of these Message-IDs: mail we sent about it, or mail we took in for it. */
export async function ticketForMessageIds(ids: string[]): Promise<string | null> {
  if (!ids.length) return null
  const rows = await asSystem(tx => tx.select({ messageId: mailMessageIds.messageId, ticketId: mailMessageIds.ticketId }).from(mailMessageIds)
    .where(inArray(mailMessageIds.messageId, ids)))
  // The newest reference first (In-Reply-To), as the hints list them.
  const byId = new Map(rows.map(r => [r.messageId, r.ticketId]))
  return ids.map(id => byId.get(id)).find(Boolean) ?? null
}

/** Remembers a message we took in as part of its ticket's thread, so replies to it thread too. */
export async function rememberMessageId(tx: Database, messageId: string | null, ticketId: string): Promise<void> {
  if (messageId) await tx.insert(mailMessageIds).values({ messageId, ticketId }).onConflictDoNothing()
}

async function ticketForNumber(number: number | null): Promise<string | null> {
  if (number === null) return null
  const [row] = await asSystem(tx => tx.select({ id: tickets.id }).from(tickets).where(eq(tickets.number, number)))
  return row?.id ?? null
}

/** Threading as the sender: the one visibility rule decides whether they may add to a ticket. */
export function threadLookups(sender: UserWithOrgs | null): ThreadLookups {
  return {
    ticketForMessageIds,
    ticketForReplyAddress: async address => ticketForNumber(await ticketNumberFromAddress(address)),
    ticketForNumber,
    async senderMaySee(ticketId) {
      if (!sender?.active) return false
      const principal = toPrincipal(sender, 'mail')
      const rows = await asPrincipal(principal, tx => tx.select({ id: tickets.id }).from(tickets).where(and(eq(tickets.id, ticketId), ticketVisibility(principal))))
      return rows.length > 0
    },
  }
}
