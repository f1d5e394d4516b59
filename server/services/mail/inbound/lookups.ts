import { and, eq, inArray, isNotNull } from 'drizzle-orm'
import { inboundMessages, tickets } from '#server/db/schema'
import { toPrincipal } from '#server/utils/principal'
import type { UserWithOrgs } from '#server/services/users'
import { asPrincipal, asSystem, ticketVisibility } from '#server/services/visibility'
import type { ThreadLookups } from './threading'

/**
 * The ticket a thread belongs to, from Message-IDs it references: mail we received and turned
 * into a ticket or reply. (Our outgoing Message-IDs are added here by the outgoing side's table.)
 */
async function ticketForMessageIds(ids: string[]): Promise<string | null> {
  const [row] = await asSystem(tx => tx.select({ ticketId: inboundMessages.ticketId }).from(inboundMessages)
    .where(and(inArray(inboundMessages.messageId, ids), isNotNull(inboundMessages.ticketId))).limit(1))
  return row?.ticketId ?? null
}

/** The ticket a signed Reply-To token names (verified by the outgoing side); null until it is wired. */
async function ticketForToken(_token: string): Promise<string | null> {
  return null
}

async function ticketForNumber(number: number): Promise<string | null> {
  const [row] = await asSystem(tx => tx.select({ id: tickets.id }).from(tickets).where(eq(tickets.number, number)))
  return row?.id ?? null
}

/** Threading as the sender: the one visibility rule decides whether they may add to a ticket. */
export function threadLookups(sender: UserWithOrgs | null): ThreadLookups {
  return {
    ticketForMessageIds,
    ticketForToken,
    ticketForNumber,
    async senderMaySee(ticketId) {
      if (!sender?.active) return false
      const principal = toPrincipal(sender, 'mail')
      const rows = await asPrincipal(principal, tx => tx.select({ id: tickets.id }).from(tickets).where(and(eq(tickets.id, ticketId), ticketVisibility(principal))))
      return rows.length > 0
    },
  }
}
