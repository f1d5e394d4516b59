import { sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import {
  bigint, boolean, customType, index, integer, jsonb, pgEnum, pgPolicy, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core'
import type { MailContent } from '../../shared/types/mail'
import { ticketPriorities, ticketStatuses } from '../../shared/utils/tickets'

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' })
const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' })

// Millisecond precision: JavaScript dates and keyset cursors carry exactly what is stored.
const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}

/**
 * Row-level security: the caller's visibility, set per transaction by `asPrincipal`
 * (server/services/visibility.ts), decides which ticket rows exist for a query. Without a
 * context nothing is visible. Kept in step with `ticketVisibility`; the matrix test checks both.
 * Staff (`staff` mode) also see the general queue: tickets with no organisation.
 */
export type VisibilityMode = 'all' | 'staff' | 'assigned' | 'org' | 'own'
// Each setting is read in a scalar subquery, so PostgreSQL evaluates it once per query (an
// InitPlan) instead of once per row: lists over many tickets stay as fast as without policies.
const mode = sql`(select current_setting('app.mode', true))`
const caller = sql`(select nullif(current_setting('app.user_id', true), '')::uuid)`
const callerOrgs = sql`(select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]`
// One CASE on the mode (an InitPlan, read once) and then only that mode's own comparisons for
// each row: the OR of every mode's tests cost 0.6 µs a row, which was most of a capped count
// (an agent's list statement at a million tickets: 8.2 → 4.0 ms). Cheapest test first: in the general
// queue `org_id is null` decides at once.
const ticketVisibleToCaller = sql`(case ${mode}
  when 'all' then true
  when 'staff' then org_id is null or org_id = any(${callerOrgs}) or requester_id = ${caller} or assignee_id = ${caller}
  when 'org' then org_id = any(${callerOrgs}) or requester_id = ${caller}
  when 'assigned' then requester_id = ${caller} or assignee_id = ${caller}
  when 'own' then requester_id = ${caller}
  else false end)`
const ofVisibleTicket = sql`exists (select 1 from tickets where tickets.id = ticket_id)`
const staffCaller = sql`(select current_setting('app.staff', true)) = 'on'`

export const ticketStatus = pgEnum('ticket_status', ticketStatuses)
export const ticketPriority = pgEnum('ticket_priority', ticketPriorities)

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  // OIDC subject; null for local accounts.
  subject: text('subject').unique(),
  passwordHash: text('password_hash'),
  // 'admin' | 'manager' | 'agent' plus visibility flags; no entry means requester.
  roles: text('roles').array().notNull().default(sql`'{}'::text[]`),
  active: boolean('active').notNull().default(true),
  lastSignInAt: timestamp('last_sign_in_at', { withTimezone: true }),
  // Sessions issued before this instant are refused (revoke all sessions of a user).
  sessionsValidAfter: timestamp('sessions_valid_after', { withTimezone: true }),
  // Set when mail to this address bounced: no notification is sent until an admin clears it.
  emailBouncedAt: timestamp('email_bounced_at', { withTimezone: true, precision: 3 }),
  ...timestamps,
})

export const orgs = pgTable('orgs', {
  id: uuid('id').primaryKey().defaultRandom(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  // Lower-case mail domains (example.com): new requesters writing from one of them join this organisation.
  emailDomains: text('email_domains').array().notNull().default(sql`'{}'::text[]`),
  ...timestamps,
})

export const userOrgs = pgTable('user_orgs', {
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  orgId: uuid('org_id').notNull().references(() => orgs.id, { onDelete: 'cascade' }),
}, t => [primaryKey({ columns: [t.userId, t.orgId] }), index('user_orgs_org_idx').on(t.orgId)])

export const tickets = pgTable('tickets', {
  id: uuid('id').primaryKey().defaultRandom(),
  // The number people quote (#1042); also the keyset for list pagination.
  number: integer('number').notNull().unique().generatedAlwaysAsIdentity({ startWith: 1000 }),
  title: text('title').notNull(),
  body: text('body').notNull(),
  status: ticketStatus('status').notNull().default('new'),
  priority: ticketPriority('priority').notNull().default('normal'),
  tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
  requesterId: uuid('requester_id').notNull().references(() => users.id),
  assigneeId: uuid('assignee_id').references(() => users.id),
  orgId: uuid('org_id').references(() => orgs.id),
  firstResponseAt: timestamp('first_response_at', { withTimezone: true }),
  resolvedAt: timestamp('resolved_at', { withTimezone: true }),
  // `updated_at` is what requesters see: public changes only. Staff see `activity_at`, which
  // internal notes and staff-only changes move too; each comes with who made the change (unread markers).
  updatedBy: uuid('updated_by').references(() => users.id),
  activityAt: timestamp('activity_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  activityBy: uuid('activity_by').references(() => users.id),
  // Enum comparisons are not LEAKPROOF, so under row-level security they cannot drive an index: sort on this instead.
  priorityRank: smallint('priority_rank').notNull().generatedAlwaysAs(
    (): SQL => sql`case ${tickets.priority} when 'urgent' then 3 when 'high' then 2 when 'normal' then 1 else 0 end`,
  ),
  ...timestamps,
}, t => [
  index('tickets_requester_number_idx').on(t.requesterId, t.number),
  // These two also INCLUDE the policy's columns and the filters' (status, priority_rank) for the
  // queue's index-only counts, which drizzle cannot say: migration 0017_queue_counts.
  index('tickets_assignee_number_idx').on(t.assigneeId, t.number),
  index('tickets_org_number_idx').on(t.orgId, t.number),
  index('tickets_status_number_idx').on(t.status, t.number),
  // Keyset pagination for each list sort (newest first), see server/services/ticket-list.ts.
  index('tickets_activity_number_idx').on(t.activityAt, t.number),
  index('tickets_updated_number_idx').on(t.updatedAt, t.number),
  index('tickets_created_number_idx').on(t.createdAt, t.number),
  index('tickets_priority_activity_number_idx').on(t.priorityRank, t.activityAt, t.number),
  pgPolicy('tickets_select', { for: 'select', using: ticketVisibleToCaller }),
  pgPolicy('tickets_insert', { for: 'insert', withCheck: ticketVisibleToCaller }),
  // A visible ticket may be changed so that the caller no longer sees it (e.g. handed to another organisation's agent).
  pgPolicy('tickets_update', { for: 'update', using: ticketVisibleToCaller, withCheck: sql`true` }),
  pgPolicy('tickets_delete', { for: 'delete', using: ticketVisibleToCaller }),
]).enableRLS()

export const comments = pgTable('comments', {
  id: uuid('id').primaryKey().defaultRandom(),
  ticketId: uuid('ticket_id').notNull().references(() => tickets.id, { onDelete: 'cascade' }),
  authorId: uuid('author_id').notNull().references(() => users.id),
  body: text('body').notNull(),
  // Internal notes are for agents and above only.
  internal: boolean('internal').notNull().default(false),
  // Insertion order: the thread's order and its keyset, even for rows of one transaction.
  seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}, t => [
  index('comments_ticket_seq_idx').on(t.ticketId, t.seq),
  pgPolicy('comments_visible_to_caller', {
    for: 'all',
    using: sql`${ofVisibleTicket} and (not internal or ${staffCaller})`,
    withCheck: sql`${ofVisibleTicket} and (not internal or ${staffCaller})`,
  }),
]).enableRLS()

export const ticketEvents = pgTable('ticket_events', {
  id: uuid('id').primaryKey().defaultRandom(),
  ticketId: uuid('ticket_id').notNull().references(() => tickets.id, { onDelete: 'cascade' }),
  actorId: uuid('actor_id').references(() => users.id),
  // created | status | priority | assignee | title | tags
  type: text('type').notNull(),
  fromValue: jsonb('from_value'),
  toValue: jsonb('to_value'),
  seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}, t => [
  index('ticket_events_ticket_seq_idx').on(t.ticketId, t.seq),
  pgPolicy('ticket_events_visible_to_caller', { for: 'all', using: ofVisibleTicket, withCheck: ofVisibleTicket }),
]).enableRLS()

export const attachmentStates = ['pending', 'ready'] as const
export const attachmentState = pgEnum('attachment_state', attachmentStates)

/** Files on a ticket or on one of its comments; the bytes live in object storage under `key`. */
export const attachments = pgTable('attachments', {
  id: uuid('id').primaryKey().defaultRandom(),
  ticketId: uuid('ticket_id').notNull().references(() => tickets.id, { onDelete: 'cascade' }),
  // Set when the file belongs to a reply or an internal note (and then shares its visibility).
  commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'cascade' }),
  // Generated by the server; never derived from the uploaded file name.
  key: text('key').notNull().unique(),
  filename: text('filename').notNull(),
  size: bigint('size', { mode: 'number' }).notNull(),
  contentType: text('content_type').notNull(),
  state: attachmentState('state').notNull().default('pending'),
  uploadedBy: uuid('uploaded_by').notNull().references(() => users.id),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}, t => [
  index('attachments_ticket_created_idx').on(t.ticketId, t.createdAt, t.id),
  index('attachments_comment_idx').on(t.commentId),
  // The clean-up job looks for old pending uploads.
  index('attachments_pending_created_idx').on(t.createdAt).where(sql`${t.state} = 'pending'`),
  // A file shares the visibility of its ticket and, on an internal note, of the note (hidden from requesters by its own policy).
  pgPolicy('attachments_visible_to_caller', {
    for: 'all',
    using: sql`${ofVisibleTicket} and (comment_id is null or exists (select 1 from comments where comments.id = comment_id))`,
    withCheck: sql`${ofVisibleTicket} and (comment_id is null or exists (select 1 from comments where comments.id = comment_id))`,
  }),
]).enableRLS()

/** Operator settings edited in the admin area, one JSON document per area (e.g. `storage`). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
})

export type UserRow = typeof users.$inferSelect
export type TicketRow = typeof tickets.$inferSelect
export type AttachmentRow = typeof attachments.$inferSelect

/** Read-only links to one ticket for people without an account; only the token's hash is stored. */
export const shareLinks = pgTable('share_links', {
  id: uuid('id').primaryKey().defaultRandom(),
  ticketId: uuid('ticket_id').notNull().references(() => tickets.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull().unique(),
  createdBy: uuid('created_by').notNull().references(() => users.id),
  expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}, t => [
  index('share_links_ticket_idx').on(t.ticketId),
  pgPolicy('share_links_visible_to_caller', { for: 'all', using: ofVisibleTicket, withCheck: ofVisibleTicket }),
]).enableRLS()

/**
 * Local sign-in sessions (AUTH_MODE=local): the `hd_auth` cookie names one row by its `sid`;
 * signing out deletes the row, so a copy of the cookie is refused from then on.
 */
export const localSessions = pgTable('local_sessions', {
  id: text('id').primaryKey(),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
}, t => [index('local_sessions_user_idx').on(t.userId)])

/** Security events: sign-ins, role changes, revocations, settings, share links. Append-only. */
export const auditLog = pgTable('audit_log', {
  seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
  // e.g. sign_in, sign_in_failed, user_created, user_changed, sessions_revoked, settings_changed, share_link_created, share_link_used
  action: text('action').notNull(),
  targetType: text('target_type'),
  targetId: text('target_id'),
  ip: text('ip'),
  details: jsonb('details').notNull().default(sql`'{}'::jsonb`),
}, t => [
  index('audit_log_action_seq_idx').on(t.action, t.seq),
  index('audit_log_actor_seq_idx').on(t.actorId, t.seq),
])

export type AuditRow = typeof auditLog.$inferSelect

/**
 * What search reads, one row per ticket (docs/search.md): the ticket's documents, and copies of the
 * columns its visibility, filters and sorts need, so a search is answered from this table and its
 * indexes alone. Kept by triggers (migrations `search_functions`, `search_rows`). Row-level
 * security is on with no policy, so the app's role reads nothing here; it searches through
 * `search_tickets()`, a SECURITY DEFINER function that applies the tickets policy's rule to these
 * copies and returns ids and sort keys only, which are then read from `tickets` under its policies.
 */
export const ticketSearch = pgTable('ticket_search', {
  ticketId: uuid('ticket_id').notNull().references(() => tickets.id, { onDelete: 'cascade' }),
  number: integer('number').notNull(),
  requesterId: uuid('requester_id').notNull(),
  assigneeId: uuid('assignee_id'),
  orgId: uuid('org_id'),
  status: ticketStatus('status').notNull(),
  priorityRank: smallint('priority_rank').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
  activityAt: timestamp('activity_at', { withTimezone: true, precision: 3 }).notNull(),
  // The parts a document is made of, kept so a change rebuilds it without reading the thread.
  titleDoc: tsvector('title_doc').notNull(),
  bodyDoc: tsvector('body_doc').notNull(),
  requesterDoc: tsvector('requester_doc').notNull(),
  repliesDoc: tsvector('replies_doc').notNull().default(sql`''::tsvector`),
  notesDoc: tsvector('notes_doc').notNull().default(sql`''::tsvector`),
  // What requesters match (all but internal notes), and what staff match (everything). Only
  // staff_doc is indexed: a requester's words are found through it, then public_doc decides
  // (migration 0028_search_one_index; a reply put its thread's words into two indexes).
  publicDoc: tsvector('public_doc').notNull(),
  staffDoc: tsvector('staff_doc').notNull(),
  // Makes every row long enough for PostgreSQL to move the documents out of line (it tries only
  // above 2 KB; toast_tuple_target then shrinks the row to 128 bytes), so a search's row reads
  // stay narrow (migration 0019_search_rows_narrow). Compressed in the row, a few bytes.
  toastPad: text('toast_pad').generatedAlwaysAs(sql`repeat(' ', 2100)`),
  // The partition the row is in (`ticket_search_part(org_id)`, set by the triggers): the general
  // queue, or one of 8 lists of organisations (migration 0031_search_partitions). Partitioned by
  // LIST in that migration (drizzle has no partitions); a key must carry it.
  part: smallint('part').notNull(),
}, t => [
  primaryKey({ columns: [t.ticketId, t.part] }),
  // Titles: entries go straight into the index (0026_gin_direct). The documents: through the
  // pending list, which the job `search.flush` merges outside requests (0029): a reply rewrites
  // its ticket's whole document, all of a long thread's words (docs/search.md, "Costs").
  // Title hits come first; a common word's are found here, then the rest newest first.
  index('ticket_search_title_idx').using('gin', t.titleDoc).with({ fastupdate: false }),
  // With who may see the row (`ticket_search_access()` of its copies, 0030): an agent's words and
  // access in one scan of the index, instead of ANDing the words with a bitmap of all they may see.
  index('ticket_search_staff_idx').using('gin', t.staffDoc, sql`ticket_search_access(${t.requesterId}, ${t.assigneeId}, ${t.orgId})`)
    .with({ fastupdate: true, gin_pending_list_limit: 4096 }),
  // Walking matches newest first, and the parts of the visibility rule (as on tickets).
  index('ticket_search_activity_number_idx').on(t.activityAt, t.number),
  index('ticket_search_updated_number_idx').on(t.updatedAt, t.number),
  index('ticket_search_created_number_idx').on(t.createdAt, t.number),
  index('ticket_search_number_idx').on(t.number), // unique on tickets; here it would need `part`
  index('ticket_search_requester_idx').on(t.requesterId),
  index('ticket_search_assignee_idx').on(t.assigneeId),
  index('ticket_search_org_idx').on(t.orgId),
]).enableRLS()

/**
 * Every word (lexeme) of every search document, so the last word of a search matches as a prefix
 * through the whole words it starts (`toner:*` → `toner`): a GIN prefix match first gathers every
 * matching key's postings into a bitmap of its own, twice the time of the exact words. Kept by
 * triggers from the documents as they are written; ordered bytewise (COLLATE "C", set in
 * migration 0024_search_lexemes) so a prefix is a range. Owner only, like ticket_search.
 */
export const searchLexemes = pgTable('search_lexemes', {
  lexeme: text('lexeme').primaryKey(),
}).enableRLS()

/** When each user last opened each ticket: a ticket is unread when someone else changed it since. */
export const ticketReads = pgTable('ticket_reads', {
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  ticketId: uuid('ticket_id').notNull().references(() => tickets.id, { onDelete: 'cascade' }),
  // The ticket's activity_at when it was opened (the database's clock, like every activity time).
  seenAt: timestamp('seen_at', { withTimezone: true, precision: 3 }).notNull(),
}, t => [
  primaryKey({ columns: [t.userId, t.ticketId] }),
  index('ticket_reads_ticket_idx').on(t.ticketId),
  pgPolicy('ticket_reads_own', {
    for: 'all',
    using: sql`user_id = ${caller} and ${ofVisibleTicket}`,
    withCheck: sql`user_id = ${caller} and ${ofVisibleTicket}`,
  }),
]).enableRLS()

// --- Outgoing mail (docs/email.md) ---------------------------------------------------------

export const outboxStates = ['queued', 'sending', 'sent', 'failed', 'suppressed'] as const
export const outboxState = pgEnum('outbox_state', outboxStates)
const systemOrAdmin = sql`(select current_setting('app.mode', true)) = 'all'`

/**
 * Every outgoing mail, written in the transaction of the change that causes it and sent by the
 * worker: nothing is lost between commit and send. Read only by admins and the system's jobs;
 * any transaction may add to it (the change that causes a mail may hide the ticket from its author).
 */
export const mailOutbox = pgTable('mail_outbox', {
  id: uuid('id').primaryKey().defaultRandom(),
  ticketId: uuid('ticket_id').references(() => tickets.id, { onDelete: 'cascade' }),
  userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
  toAddress: text('to_address').notNull(),
  // ticket_created | ticket_acknowledged | reply | requester_reply | resolved | assigned | password_reset
  kind: text('kind').notNull(),
  // What caused it (e.g. comment:<id>): one mail per event and recipient, even if the change is retried.
  eventKey: text('event_key').notNull(),
  messageId: text('message_id').notNull().unique(),
  // A reply's mail lists the files uploaded with it, so it is rendered again when sent.
  commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'set null' }),
  // The template's input, kept so the message can be rendered again with the files.
  content: jsonb('content').$type<MailContent>().notNull(),
  subject: text('subject').notNull(),
  textBody: text('text_body').notNull(),
  htmlBody: text('html_body').notNull(),
  // Threading, Reply-To, List-Unsubscribe and the other headers, as sent.
  headers: jsonb('headers').$type<Record<string, string>>().notNull(),
  state: outboxState('state').notNull().default('queued'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  // A claimed row (state sending) returns to the queue when its sender vanished past this.
  lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
  sentAt: timestamp('sent_at', { withTimezone: true, precision: 3 }),
  ...timestamps,
}, t => [
  index('mail_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.state} in ('queued', 'sending')`),
  index('mail_outbox_created_idx').on(t.createdAt, t.id),
  index('mail_outbox_ticket_idx').on(t.ticketId),
  uniqueIndex('mail_outbox_event_recipient_idx').on(t.eventKey, t.toAddress),
  pgPolicy('mail_outbox_read', { for: 'select', using: systemOrAdmin }),
  pgPolicy('mail_outbox_add', { for: 'insert', withCheck: sql`true` }),
  pgPolicy('mail_outbox_change', { for: 'update', using: systemOrAdmin, withCheck: systemOrAdmin }),
  pgPolicy('mail_outbox_remove', { for: 'delete', using: systemOrAdmin }),
]).enableRLS()

export type OutboxRow = typeof mailOutbox.$inferSelect

/**
 * Message-IDs that belong to a ticket's thread: every mail we send and every mail we take in.
 * Inbound mail naming one of them in In-Reply-To/References belongs to that ticket.
 */
export const mailMessageIds = pgTable('mail_message_ids', {
  // Without angle brackets, as mailparser reports it.
  messageId: text('message_id').primaryKey(),
  ticketId: uuid('ticket_id').notNull().references(() => tickets.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}, t => [
  index('mail_message_ids_ticket_idx').on(t.ticketId, t.createdAt),
  pgPolicy('mail_message_ids_visible', { for: 'select', using: ofVisibleTicket }),
  pgPolicy('mail_message_ids_add', { for: 'insert', withCheck: sql`true` }),
  pgPolicy('mail_message_ids_remove', { for: 'delete', using: systemOrAdmin }),
]).enableRLS()

/** A user's choice of notification mail; no row means everything on. */
export const notificationSettings = pgTable('notification_settings', {
  userId: uuid('user_id').primaryKey().references(() => users.id, { onDelete: 'cascade' }),
  email: boolean('email').notNull().default(true),
  // Kinds (notificationPreferences in shared/types/mail.ts) the user turned off while mail stays on.
  mutedKinds: text('muted_kinds').array().notNull().default(sql`'{}'::text[]`),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
})

/** Single-use password reset links; only the token's hash is stored. */
export const passwordResets = pgTable('password_resets', {
  tokenHash: text('token_hash').primaryKey(),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true, precision: 3 }),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}, t => [index('password_resets_user_idx').on(t.userId)])

export const inboundStates = ['queued', 'processed', 'ignored', 'failed'] as const
export const inboundResults = ['created', 'appended', 'bounce', 'duplicate'] as const
export const inboundState = pgEnum('inbound_state', inboundStates)
export const inboundResult = pgEnum('inbound_result', inboundResults)

/**
 * Every message received by mail (relay endpoint or IMAP), stored raw before anything else
 * happens, so a crash loses nothing; processing records its outcome here. Admins only: the
 * policy lets through nothing but the system's and admins' context.
 */
export const inboundMessages = pgTable('inbound_messages', {
  id: uuid('id').primaryKey().defaultRandom(),
  // relay | imap
  source: text('source').notNull(),
  raw: bytea('raw').notNull(),
  size: integer('size').notNull(),
  // The Message-ID without angle brackets, as sent.
  messageId: text('message_id'),
  fromAddress: text('from_address'),
  subject: text('subject'),
  state: inboundState('state').notNull().default('queued'),
  result: inboundResult('result'),
  ticketId: uuid('ticket_id').references(() => tickets.id, { onDelete: 'set null' }),
  commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'set null' }),
  reason: text('reason'),
  // Held by the one copy of a message that was turned into a ticket or reply; a second copy finds it taken.
  dedupeKey: text('dedupe_key').unique(),
  // The whole text including quoted history (the reply shows the stripped part).
  fullText: text('full_text'),
  attempts: integer('attempts').notNull().default(0),
  // While set and in the future, one process is working on the message; others leave it alone.
  leaseUntil: timestamp('lease_until', { withTimezone: true, precision: 3 }),
  receivedAt: timestamp('received_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  processedAt: timestamp('processed_at', { withTimezone: true, precision: 3 }),
}, t => [
  index('inbound_messages_received_idx').on(t.receivedAt, t.id),
  index('inbound_messages_message_id_idx').on(t.messageId),
  index('inbound_messages_queued_idx').on(t.receivedAt).where(sql`${t.state} = 'queued'`),
  pgPolicy('inbound_messages_system_only', { for: 'all', using: systemOrAdmin, withCheck: systemOrAdmin }),
]).enableRLS()

export type InboundMessageRow = typeof inboundMessages.$inferSelect

/** Saved queue filters: personal ones (seen by their owner only) and shared ones made by managers. */
export const savedViews = pgTable('saved_views', {
  id: uuid('id').primaryKey().defaultRandom(),
  ownerId: uuid('owner_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  shared: boolean('shared').notNull().default(false),
  // The queue's query: status, priority, assignee, q, sort (as the list API takes them).
  filters: jsonb('filters').notNull().default(sql`'{}'::jsonb`),
  ...timestamps,
}, t => [index('saved_views_owner_idx').on(t.ownerId), index('saved_views_shared_idx').on(t.shared)])

/** Canned replies kept by admins and managers: text with placeholders and optional changes to the ticket. */
export const macros = pgTable('macros', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  body: text('body').notNull(),
  // { status?, priority?, addTags? } applied with the reply.
  changes: jsonb('changes').notNull().default(sql`'{}'::jsonb`),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  ...timestamps,
})
