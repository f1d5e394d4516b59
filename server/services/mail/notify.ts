import { randomUUID } from 'node:crypto'
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import { staffRoles } from '#shared/utils/roles'
import type { MailContent } from '#shared/types/mail'
import type { Database } from '../../db/client'
import { notificationSettings, settings, tickets, userOrgs, users } from '../../db/schema'
import type { TicketRow } from '../../db/schema'
import { publicUrl, useConfig } from '../../utils/config'
import type { Principal } from '../../utils/principal'
import { ticketVisibility } from '../visibility'
import { replyAddress, unsubscribeUrls } from './addresses'
import { queueMails } from './outbox'
import type { OutgoingMail } from './outbox'

/** What happened to a ticket, as the services that change tickets describe it. */
export type TicketChange
  = | { type: 'created' }
    | { type: 'comment', commentId: string, internal: boolean, body: string }
    | { type: 'updated', before: TicketRow }

/** The preference a mail kind falls under (GET/PUT /api/me/notifications). */
const preferenceOf: Record<string, string> = {
  ticket_acknowledged: 'ticket_created',
  ticket_created: 'ticket_created',
  reply: 'reply',
  requester_reply: 'reply',
  resolved: 'resolved',
  assigned: 'assigned',
}

interface Person {
  id: string
  email: string
  name: string
  roles: string[]
  orgIds: string[]
  bounced: boolean
}

async function people(tx: Database, where: SQL): Promise<Person[]> {
  return tx.select({
    id: users.id,
    email: users.email,
    name: users.name,
    roles: users.roles,
    orgIds: sql<string[]>`coalesce(array_agg(${userOrgs.orgId}) filter (where ${userOrgs.orgId} is not null), '{}')`,
    bounced: sql<boolean>`${users.emailBouncedAt} is not null`,
  }).from(users).leftJoin(userOrgs, eq(userOrgs.userId, users.id))
    .where(and(eq(users.active, true), where)).groupBy(users.id)
}

const asPrincipal = (p: Person): Principal => ({ userId: p.id, subject: null, email: p.email, name: p.name, roles: p.roles, orgs: [], orgIds: p.orgIds, scopes: [], via: 'local' })

/**
 * Who of `candidates` may see the ticket, by the one visibility rule: each person's condition
 * (ticketVisibility) is evaluated against the ticket's values, in one query.
 */
async function whoCanSee(tx: Database, ticket: TicketRow, candidates: Person[]): Promise<Person[]> {
  const visible: Person[] = []
  for (let start = 0; start < candidates.length; start += 400) {
    const chunk = candidates.slice(start, start + 400)
    const columns = sql.join(chunk.map((p, i) => sql`${ticketVisibility(asPrincipal(p))} as ${sql.identifier(`v${i}`)}`), sql`, `)
    const result = await tx.execute(sql`select ${columns} from (values (${ticket.id}::uuid, ${ticket.requesterId}::uuid, ${ticket.assigneeId}::uuid, ${ticket.orgId}::uuid))
      as tickets(id, requester_id, assignee_id, org_id)`)
    const row = (Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows[0]) as Record<string, boolean>
    chunk.forEach((p, i) => row[`v${i}`] && visible.push(p))
  }
  return visible
}

const staffOnly = sql`${users.roles} && ${sql.raw(`array[${staffRoles.map(r => `'${r}'`).join(',')}]::text[]`)}`

/** Assignee if any, else every staff member who can see the ticket. */
async function staffFor(tx: Database, ticket: TicketRow): Promise<Person[]> {
  const candidates = await people(tx, ticket.assigneeId ? and(eq(users.id, ticket.assigneeId), staffOnly)! : staffOnly)
  return whoCanSee(tx, ticket, candidates)
}

async function acknowledgesNewTickets(tx: Database): Promise<boolean> {
  const [row] = await tx.select({ value: settings.value }).from(settings).where(eq(settings.key, 'mail'))
  return (row?.value as { acknowledgeNewTickets?: boolean } | undefined)?.acknowledgeNewTickets !== false
}

interface Planned { person: Person, kind: string, intro: string, quote?: MailContent['quote'], lines?: string[] }

/**
 * Queues the notification mails a change causes, in the change's transaction. One call per
 * change from the ticket and comment services. The rules: nobody who cannot see the ticket;
 * no internal note to a requester (internal notes mail nobody); never the author of the change
 * (except the receipt of a new ticket); no bounced address (kept as suppressed); one mail per
 * person and event; each person's own settings.
 */
export async function notifyTicketChange(tx: Database, actor: Principal, ticketOrId: TicketRow | string, change: TicketChange): Promise<void> {
  const ticket = typeof ticketOrId === 'string'
    ? (await tx.select().from(tickets).where(eq(tickets.id, ticketOrId)))[0]
    : ticketOrId
  if (!ticket) return
  const plans = await plan(tx, actor, ticket, change)
  if (!plans.length) return

  const seen = new Set<string>()
  const unique = plans.filter(p => !seen.has(p.person.id) && seen.add(p.person.id))
  const visible = new Set((await whoCanSee(tx, ticket, unique.map(p => p.person))).map(p => p.id))
  const prefs = await tx.select().from(notificationSettings).where(inArray(notificationSettings.userId, unique.map(p => p.person.id)))
  const wants = (p: Planned) => {
    const pref = prefs.find(r => r.userId === p.person.id)
    return !pref || (pref.email && !pref.mutedKinds.includes(preferenceOf[p.kind]!))
  }
  const recipients = unique.filter(p => visible.has(p.person.id) && wants(p) && (p.person.id !== actor.userId || p.kind === 'ticket_acknowledged'))
  if (!recipients.length) return

  const url = `${publicUrl(useConfig())}/tickets/${ticket.number}`
  const eventKey = change.type === 'comment' ? `comment:${change.commentId}` : change.type === 'created' ? `created:${ticket.id}` : `update:${ticket.id}:${randomUUID()}`
  const replyTo = await replyAddress(ticket.number)
  const mails: OutgoingMail[] = await Promise.all(recipients.map(async (p) => {
    const links = await unsubscribeUrls(p.person.id)
    const staff = p.person.roles.some(r => (staffRoles as readonly string[]).includes(r))
    return {
      ticketId: ticket.id,
      userId: p.person.id,
      to: p.person.email,
      kind: p.kind,
      eventKey,
      subject: `[#${ticket.number}] ${ticket.title}`,
      commentId: change.type === 'comment' ? change.commentId : undefined,
      holdSeconds: change.type === 'comment' ? useConfig().MAIL_REPLY_HOLD_SECONDS : 0,
      suppressed: p.person.bounced ? 'The address bounced earlier; an admin can clear it.' : undefined,
      headers: {
        'Reply-To': replyTo,
        'List-Unsubscribe': `<${links.oneClick}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      content: {
        intro: p.intro,
        quote: p.quote,
        lines: [...(p.lines ?? []), 'Reply to this email to answer, or open the ticket.'],
        action: { label: `Open ticket #${ticket.number}`, url },
        footer: `You receive this because you ${staff ? 'work on' : 'asked for help with'} ticket #${ticket.number}. Turn these emails off: ${links.page}`,
        replyable: true,
      },
    }
  }))
  await queueMails(tx, mails)
}

async function plan(tx: Database, actor: Principal, ticket: TicketRow, change: TicketChange): Promise<Planned[]> {
  const [requester] = await people(tx, eq(users.id, ticket.requesterId))
  const byRequester = actor.userId === ticket.requesterId
  const actorIsStaff = actor.roles.some(r => (staffRoles as readonly string[]).includes(r))
  const plans: Planned[] = []

  if (change.type === 'created') {
    if (requester && await acknowledgesNewTickets(tx)) {
      plans.push({ person: requester, kind: 'ticket_acknowledged', intro: `We received your request “${ticket.title}” as ticket #${ticket.number}. We will answer as soon as we can.` })
    }
    for (const person of await staffFor(tx, ticket)) {
      plans.push({ person, kind: 'ticket_created', intro: `New ticket #${ticket.number} from ${requester?.name ?? 'a requester'}: ${ticket.title}`, quote: { author: requester?.name ?? 'Requester', text: ticket.body } })
    }
  }
  else if (change.type === 'comment') {
    // Internal notes are for staff in the app only: no mail, so none can reach a requester.
    if (change.internal) return []
    if (actorIsStaff && !byRequester) {
      if (requester) plans.push({ person: requester, kind: 'reply', intro: `${actor.name} replied to your request #${ticket.number}.`, quote: { author: actor.name, text: change.body } })
    }
    else {
      for (const person of await staffFor(tx, ticket)) {
        plans.push({ person, kind: 'requester_reply', intro: `${actor.name} replied on ticket #${ticket.number}: ${ticket.title}`, quote: { author: actor.name, text: change.body } })
      }
    }
  }
  else {
    const { before } = change
    if (ticket.status === 'resolved' && before.status !== 'resolved' && requester) {
      plans.push({ person: requester, kind: 'resolved', intro: `${actor.name} marked your request #${ticket.number} “${ticket.title}” as resolved.`, lines: ['If it is not solved for you, just reply to this email: the ticket opens again.'] })
    }
    if (ticket.assigneeId && ticket.assigneeId !== before.assigneeId) {
      const [assignee] = await people(tx, and(eq(users.id, ticket.assigneeId), staffOnly)!)
      if (assignee) plans.push({ person: assignee, kind: 'assigned', intro: `${actor.name} assigned ticket #${ticket.number} to you: ${ticket.title}`, quote: { author: requester?.name ?? 'Requester', text: ticket.body } })
    }
  }
  return plans
}
