import { sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import {
  bigint, boolean, customType, index, integer, jsonb, pgEnum, pgPolicy, pgTable, primaryKey, text, timestamp, uuid,
} from 'drizzle-orm/pg-core'
import { ticketPriorities, ticketStatuses } from '../../shared/types/ticket'

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' })

// Millisecond precision: JavaScript dates and keyset cursors carry exactly what is stored.
const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
}

/**
 * Row-level security: the caller's visibility, set per transaction by `asPrincipal`
 * (server/services/visibility.ts), decides which ticket rows exist for a query. Without a
 * context nothing is visible. Kept in step with `ticketVisibility`; the matrix test checks both.
 */
export type VisibilityMode = 'all' | 'staff' | 'assigned' | 'org' | 'own'
// Each setting is read in a scalar subquery, so PostgreSQL evaluates it once per query (an
// InitPlan) instead of once per row: lists over many tickets stay as fast as without policies.
const mode = sql`(select current_setting('app.mode', true))`
const caller = sql`(select nullif(current_setting('app.user_id', true), '')::uuid)`
const callerOrgs = sql`(select string_to_array(nullif(current_setting('app.org_ids', true), ''), ','))::uuid[]`
const ticketVisibleToCaller = sql`(${mode} = 'all'
  or (${mode} in ('own', 'assigned', 'org', 'staff') and requester_id = ${caller})
  or (${mode} in ('assigned', 'staff') and assignee_id = ${caller})
  or (${mode} in ('org', 'staff') and org_id = any(${callerOrgs})))`
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
  search: tsvector('search').notNull().generatedAlwaysAs(
    (): SQL => sql`setweight(to_tsvector('english'::regconfig, ${tickets.title}), 'A') || setweight(to_tsvector('english'::regconfig, ${tickets.body}), 'B')`,
  ),
  ...timestamps,
}, t => [
  index('tickets_requester_number_idx').on(t.requesterId, t.number),
  index('tickets_assignee_number_idx').on(t.assigneeId, t.number),
  index('tickets_org_number_idx').on(t.orgId, t.number),
  index('tickets_status_number_idx').on(t.status, t.number),
  index('tickets_search_idx').using('gin', t.search),
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
