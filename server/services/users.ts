import { randomBytes } from 'node:crypto'
import { and, asc, eq, getTableColumns, gt, ilike, inArray, isNull, notInArray, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type { AdminUser, RequesterChoice, RequesterRef, StaffMember, UserCreate, UserUpdate } from '../../shared/types/user'
import { userCreateSchema } from '../../shared/types/user'
import { staffRoles, visibilityFlags, hasRole, isStaff, primaryRole } from '../../shared/utils/roles'
import { useDb } from '../db/client'
import type { Database } from '../db/client'
import { orgs, userOrgs, users } from '../db/schema'
import type { UserRow } from '../db/schema'
import { useConfig } from '../utils/config'
import { decodeCursor, pageOf } from '../utils/cursor'
import { hashPassword, verifyPassword } from './auth/password'
import type { Actor, Principal } from '#server/utils/principal'
import { badRequest, conflict, forbidden, notFound } from '#server/utils/errors'
import { rolesInclude } from '#server/utils/role-sql'
import { audit } from './audit'
import { orgIdsForEmail } from './orgs'
import { visibilityMode } from './visibility'

export interface UserWithOrgs extends UserRow {
  orgs: { id: string, slug: string, name: string }[]
}

async function orgsOf(db: Database, userIds: string[]) {
  if (!userIds.length) return new Map<string, UserWithOrgs['orgs']>()
  const rows = await db.select({ userId: userOrgs.userId, id: orgs.id, slug: orgs.slug, name: orgs.name })
    .from(userOrgs).innerJoin(orgs, eq(orgs.id, userOrgs.orgId))
    .where(inArray(userOrgs.userId, userIds)).orderBy(asc(orgs.slug))
  const byUser = new Map<string, UserWithOrgs['orgs']>()
  for (const { userId, ...org } of rows) byUser.set(userId, [...(byUser.get(userId) ?? []), org])
  return byUser
}

/** A user with their organisations (by slug), in one statement: every request's principal is read with it. */
export async function findUserWithOrgs(userId: string, also?: SQL): Promise<UserWithOrgs | null> {
  const db = await useDb()
  const [user] = await db.select({
    ...getTableColumns(users),
    // Spelt out: drizzle leaves a single-table select's columns unqualified, which in the
    // subquery would name the organisation's id instead of the user's.
    orgs: sql<UserWithOrgs['orgs']>`coalesce((select json_agg(json_build_object('id', o.id, 'slug', o.slug, 'name', o.name) order by o.slug)
      from user_orgs uo join orgs o on o.id = uo.org_id where uo.user_id = users.id), '[]'::json)`,
  }).from(users).where(also ? and(eq(users.id, userId), also) : eq(users.id, userId))
  return user ?? null
}

/** Organisations are created the first time anyone names them. */
export async function ensureOrgs(db: Database, slugs: string[]): Promise<string[]> {
  if (!slugs.length) return []
  await db.insert(orgs).values(slugs.map(slug => ({ slug, name: slug }))).onConflictDoNothing()
  const rows = await db.select({ id: orgs.id }).from(orgs).where(inArray(orgs.slug, slugs))
  return rows.map(r => r.id)
}

const emailTaken = () => conflict('A user with this email already exists.', 'Email already in use')

/** Creates a user; with an `actor` (an admin in the admin area) the creation is audited. */
export async function createUser(input: UserCreate, actor?: Actor): Promise<UserRow> {
  const data = userCreateSchema.parse(input)
  const db = await useDb()
  const roles = [...(data.role === 'requester' ? [] : [data.role]), ...data.flags]
  const passwordHash = await hashPassword(data.password)
  return db.transaction(async (tx) => {
    const [user] = await tx.insert(users)
      .values({ email: data.email, name: data.name, passwordHash, roles })
      .onConflictDoNothing({ target: users.email })
      .returning()
    if (!user) throw emailTaken()
    // A requester given no organisation joins the ones that list their mail domain.
    const orgIds = data.orgs.length || data.role !== 'requester' ? await ensureOrgs(tx, data.orgs) : await orgIdsForEmail(tx, data.email)
    if (orgIds.length) await tx.insert(userOrgs).values(orgIds.map(orgId => ({ userId: user.id, orgId })))
    return user
  }).then(async (user) => {
    if (actor) await audit(actor, { action: 'user_created', target: { type: 'user', id: user.id }, details: { email: user.email, roles: user.roles } })
    return user
  })
}

export interface OidcIdentity {
  subject: string
  email: string
  /** Only an address the IdP verified may take over an existing account with that email. */
  emailVerified: boolean
  name: string
  roles: string[]
  orgs: string[]
}

/**
 * Just-in-time provisioning: the user row of an OIDC subject, created or brought in line with
 * the IdP's claims (email, name, roles, organisations). A local account with the same email and
 * no subject yet is taken over, so switching a running installation to OIDC keeps its data.
 * `signIn` records the sign-in time; renewals only follow changes at the IdP.
 */
export async function upsertOidcUser(identity: OidcIdentity, signIn: boolean): Promise<UserRow> {
  const db = await useDb()
  const now = new Date()
  const fields = { subject: identity.subject, email: identity.email, name: identity.name, roles: identity.roles, updatedAt: now, ...(signIn ? { lastSignInAt: now } : {}) }
  try {
    return await db.transaction(async (tx) => {
      const [existing] = await tx.select({ id: users.id }).from(users)
        .where(or(eq(users.subject, identity.subject), identity.emailVerified ? and(isNull(users.subject), eq(users.email, identity.email)) : undefined))
        .orderBy(sql`${users.subject} is null`).limit(1)
      const [user] = existing
        ? await tx.update(users).set(fields).where(eq(users.id, existing.id)).returning()
        : await tx.insert(users).values(fields).onConflictDoUpdate({ target: users.subject, set: fields }).returning()
      const orgIds = await ensureOrgs(tx, identity.orgs)
      await tx.delete(userOrgs).where(and(eq(userOrgs.userId, user!.id), orgIds.length ? notInArray(userOrgs.orgId, orgIds) : undefined))
      if (orgIds.length) await tx.insert(userOrgs).values(orgIds.map(orgId => ({ userId: user!.id, orgId }))).onConflictDoNothing()
      return user!
    })
  }
  catch (error) {
    if (isUniqueViolation(error)) throw conflict('Another account already uses this email address.', 'Email already in use')
    throw error
  }
}

/** Every session of the user issued before now is refused from here on; false when there is no such user. */
export async function revokeSessions(userId: string): Promise<boolean> {
  const db = await useDb()
  const rows = await db.update(users).set({ sessionsValidAfter: new Date(), updatedAt: new Date() }).where(eq(users.id, userId)).returning({ id: users.id })
  return rows.length > 0
}

/**
 * The user an IdP subject names, created on first sight from the token's claims (a minimal
 * just-in-time account: no roles; OIDC sign-in and the admin area maintain those). Null when the
 * token's email already belongs to a different account.
 */
export async function userForSubject(subject: string, claims: { email: string | null, name: string | null }): Promise<UserRow | null> {
  const db = await useDb()
  const bySubject = () => db.select().from(users).where(eq(users.subject, subject)).then(r => r[0] ?? null)
  const existing = await bySubject()
  if (existing) return existing
  const email = (claims.email ?? `${subject.replace(/[^\w.-]/g, '_')}@subject.invalid`).toLowerCase()
  const [created] = await db.insert(users).values({ subject, email, name: claims.name ?? email }).onConflictDoNothing().returning()
  return created ?? bySubject()
}

/** A machine client's service account (subject `client:<id>`), created on first sight. */
export async function userForClient(clientId: string): Promise<UserRow | null> {
  const db = await useDb()
  const subject = `client:${clientId}`
  await db.insert(users).values({
    subject,
    email: `${clientId.replace(/[^\w.-]/g, '_').toLowerCase()}@clients.invalid`,
    name: `API client ${clientId}`,
  }).onConflictDoNothing()
  const [row] = await db.select().from(users).where(eq(users.subject, subject))
  return row ?? null
}

/** Checks an email + password pair: null for any wrong pair (the same answer for everyone), 403 for a right pair of a deactivated account. */
export async function authenticateLocal(email: string, password: string, ip: string | null = null): Promise<UserRow | null> {
  const db = await useDb()
  const [user] = await db.select().from(users).where(eq(users.email, email))
  const ok = await verifyPassword(password, user?.passwordHash)
  if (!ok || !user) return null
  // Only someone who knows the password learns that the account exists but is switched off.
  if (!user.active) {
    await audit({ actorId: user.id, ip }, { action: 'sign_in_failed', details: { via: 'local', reason: 'deactivated' } })
    throw forbidden('This account has been deactivated. Ask an administrator to reactivate it.')
  }
  await db.update(users).set({ lastSignInAt: new Date() }).where(eq(users.id, user.id))
  return user
}

/**
 * A fresh installation gets one admin, so somebody can sign in and create the others.
 * Returns the generated password when one had to be made up (it is shown once).
 */
export async function ensureFirstAdmin(email: string, password?: string, options: { mayGenerate: boolean } = { mayGenerate: true }): Promise<{ created: boolean, password?: string }> {
  const db = await useDb()
  const [existing] = await db.select({ id: users.id }).from(users).where(sql`'admin' = any(${users.roles})`).limit(1)
  if (existing) return { created: false }
  if (!password && !options.mayGenerate) throw new Error('ADMIN_PASSWORD is required to create the first admin of a fresh installation in production (a generated password would be written to the log)')
  const generated = password ? undefined : randomBytes(12).toString('base64url')
  try {
    await createUser({ email, name: 'Administrator', password: password ?? generated!, role: 'admin' })
  }
  catch (error) {
    // Replicas starting together: another one created the first admin a moment ago.
    const [created] = await db.select({ id: users.id }).from(users).where(sql`'admin' = any(${users.roles})`).limit(1)
    if (created) return { created: false }
    throw error
  }
  return { created: true, password: generated }
}

export function toAdminUser(user: UserWithOrgs): AdminUser {
  const role = primaryRole(user.roles)
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: [role, ...user.roles.filter(r => r !== role)],
    orgs: user.orgs.map(o => o.slug),
    active: user.active,
    lastSignInAt: user.lastSignInAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
  }
}

const isEmailKey = (v: unknown): v is [string] => Array.isArray(v) && v.length === 1 && typeof v[0] === 'string'
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, c => `\\${c}`)}%`

/**
 * The people a caller may look up: admins everyone; staff the members of their organisations and
 * the requesters of the general queue (no organisation, no staff role) — never other staff's addresses.
 */
export function userScope(principal: Pick<Principal, 'roles' | 'orgIds'>): SQL | undefined {
  if (hasRole(principal.roles, 'admin')) return undefined
  const inMyOrgs = principal.orgIds.length
    ? sql`exists (select 1 from ${userOrgs} where ${userOrgs.userId} = ${users.id} and ${inArray(userOrgs.orgId, principal.orgIds)})`
    : sql`false`
  const generalQueueRequester = and(sql`not exists (select 1 from ${userOrgs} where ${userOrgs.userId} = ${users.id})`, sql`not ${rolesInclude(users.roles, staffRoles)}`)
  return or(inMyOrgs, generalQueueRequester)
}

/** Users by email, keyset-paginated; `q` matches email or name, `org` limits to an organisation's members. */
export async function listUsers(principal: Principal, query: { q?: string, org?: string, cursor?: string, limit: number }) {
  const db = await useDb()
  const rows = await db.select().from(users).where(and(
    userScope(principal),
    query.org ? inArray(users.id, db.select({ id: userOrgs.userId }).from(userOrgs).innerJoin(orgs, eq(orgs.id, userOrgs.orgId)).where(eq(orgs.slug, query.org))) : undefined,
    query.q ? or(ilike(users.email, likePattern(query.q)), ilike(users.name, likePattern(query.q))) : undefined,
    query.cursor ? gt(users.email, decodeCursor(query.cursor, isEmailKey)[0]) : undefined,
  )).orderBy(asc(users.email)).limit(query.limit + 1)
  const page = pageOf(rows, query.limit, u => [u.email])
  const byUser = await orgsOf(db, page.data.map(r => r.id))
  return { data: page.data.map(u => toAdminUser({ ...u, orgs: byUser.get(u.id) ?? [] })), meta: page.meta }
}

/**
 * Agents, managers and admins who can be assigned a ticket: for admins all of them, for others the
 * staff of the caller's organisations (who see those organisations' tickets).
 */
export async function listAssignableStaff(principal: Principal): Promise<StaffMember[]> {
  const db = await useDb()
  const shared = hasRole(principal.roles, 'admin')
    ? undefined
    : principal.orgIds.length ? sql`exists (select 1 from ${userOrgs} where ${userOrgs.userId} = ${users.id} and ${inArray(userOrgs.orgId, principal.orgIds)})` : eq(users.id, principal.userId)
  return db.select({ id: users.id, name: users.name, email: users.email }).from(users)
    .where(and(eq(users.active, true), rolesInclude(users.roles, staffRoles), shared))
    .orderBy(asc(users.name))
}

/**
 * Requesters staff may open a ticket for, by name or email: people in the caller's directory
 * (see `userScope`), active, at most 20.
 */
export async function searchRequesters(principal: Principal, q: string): Promise<RequesterChoice[]> {
  const db = await useDb()
  const rows = await db.select().from(users)
    .where(and(userScope(principal), eq(users.active, true), or(ilike(users.email, likePattern(q)), ilike(users.name, likePattern(q)))))
    .orderBy(asc(users.name)).limit(20)
  const byUser = await orgsOf(db, rows.map(r => r.id))
  return rows.map(u => ({ id: u.id, name: u.name, email: u.email, orgs: (byUser.get(u.id) ?? []).map(o => o.slug) }))
}

/**
 * The requester of a ticket staff open on someone's behalf: an existing person they may look up,
 * or a new requester account for an address nobody has yet (joining the organisations of its
 * domain; they can set a password through "forgot password"). The ticket must stay visible to
 * the staff member who opens it.
 */
export async function requesterForTicket(actor: Actor, principal: Principal, choice: RequesterRef): Promise<UserWithOrgs> {
  if (!isStaff(principal.roles)) throw forbidden('Only agents can open tickets for someone else.')
  const db = await useDb()
  const email = 'email' in choice ? choice.email : undefined
  const [found] = await db.select({ id: users.id }).from(users)
    .where(and(email ? eq(users.email, email) : eq(users.id, (choice as { id: string }).id), userScope(principal)))
  if (found) {
    const user = (await findUserWithOrgs(found.id))!
    if (!user.active) throw badRequest({ field: 'requester', problem: 'is deactivated' })
    return user
  }
  if (!email) throw badRequest({ field: 'requester', problem: 'is not someone you can open tickets for' })
  const [taken] = await db.select({ id: users.id }).from(users).where(eq(users.email, email))
  if (taken) throw badRequest({ field: 'requester', problem: 'is not someone you can open tickets for' })
  if (visibilityMode(principal) === 'assigned') throw badRequest({ field: 'requester', problem: 'cannot be a new person for agents who see only tickets assigned to them' })
  const [created] = await db.insert(users).values({ email, name: ('name' in choice && choice.name) || email.split('@')[0]!, roles: [] })
    .onConflictDoNothing({ target: users.email }).returning()
  if (!created) throw emailTaken()
  const orgIds = await orgIdsForEmail(db, email)
  if (orgIds.length) await db.insert(userOrgs).values(orgIds.map(orgId => ({ userId: created.id, orgId })))
  await audit(actor, { action: 'user_created', target: { type: 'user', id: created.id }, details: { email, roles: [], via: 'ticket on behalf' } })
  return (await findUserWithOrgs(created.id))!
}

const notFoundUser = () => notFound('User not found.')

const fromIdp = (fields: readonly string[]) => badRequest(fields.map(field => ({ field, problem: 'comes from the identity provider; change it there' })))

/**
 * An admin changes a user's role, visibility flags, organisations, name, email, password or
 * active state. Deactivating or a new password ends every session at once. Admins cannot lock
 * themselves out. With single sign-on, what the IdP's claims carry is changed at the IdP (the
 * next sign-in would undo it here).
 */
export async function updateUser(actor: Actor, userId: string, patch: UserUpdate): Promise<AdminUser> {
  const actorId = actor.actorId
  const before = await findUserWithOrgs(userId)
  if (!before) throw notFoundUser()
  const managedByIdp = (['role', 'flags', 'orgs', 'name', 'email', 'password'] as const).filter(field => patch[field] !== undefined)
  if (useConfig().AUTH_MODE === 'oidc' && before.subject && managedByIdp.length) throw fromIdp(managedByIdp)
  const role = patch.role ?? primaryRole(before.roles)
  const flags = patch.flags ?? before.roles.filter(r => (visibilityFlags as readonly string[]).includes(r))
  const roles = [...((staffRoles as readonly string[]).includes(role) ? [role] : []), ...flags]
  if (userId === actorId && (role !== 'admin' || patch.active === false)) {
    throw badRequest({ field: patch.active === false ? 'active' : 'role', problem: 'cannot be changed on your own account: you cannot remove your own admin rights or deactivate yourself' })
  }
  const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password)
  const endSessions = (patch.active === false && before.active) || passwordHash !== undefined
  const db = await useDb()
  try {
    await db.transaction(async (tx) => {
      await tx.update(users).set({
        name: patch.name ?? before.name,
        email: patch.email ?? before.email,
        roles,
        active: patch.active ?? before.active,
        ...(passwordHash ? { passwordHash } : {}),
        ...(endSessions ? { sessionsValidAfter: new Date() } : {}),
        updatedAt: new Date(),
      }).where(eq(users.id, userId))
      if (patch.orgs) {
        await tx.delete(userOrgs).where(eq(userOrgs.userId, userId))
        const orgIds = await ensureOrgs(tx, patch.orgs)
        if (orgIds.length) await tx.insert(userOrgs).values(orgIds.map(orgId => ({ userId, orgId })))
      }
    })
  }
  catch (error) {
    if (isUniqueViolation(error)) throw emailTaken()
    throw error
  }
  const after = toAdminUser((await findUserWithOrgs(userId))!)
  const was = toAdminUser(before)
  const changes: Record<string, unknown> = Object.fromEntries((['name', 'email', 'roles', 'orgs', 'active'] as const)
    .filter(k => JSON.stringify(was[k]) !== JSON.stringify(after[k]))
    .map(k => [k, { from: was[k], to: after[k] }]))
  // Never the password itself, not even hashed.
  if (passwordHash) changes.password = 'set by an admin'
  if (Object.keys(changes).length) await audit(actor, { action: 'user_changed', target: { type: 'user', id: userId }, details: changes })
  return after
}

/** A user changes their own display name (local accounts; with SSO the name comes from the IdP). */
export async function renameSelf(actor: Actor, principal: Principal, name: string): Promise<UserWithOrgs> {
  const before = await findUserWithOrgs(principal.userId)
  if (!before) throw notFoundUser()
  if (useConfig().AUTH_MODE === 'oidc' && before.subject) throw fromIdp(['name'])
  if (before.name !== name) {
    const db = await useDb()
    await db.update(users).set({ name, updatedAt: new Date() }).where(eq(users.id, principal.userId))
    await audit(actor, { action: 'user_changed', target: { type: 'user', id: principal.userId }, details: { name: { from: before.name, to: name } } })
  }
  return (await findUserWithOrgs(principal.userId))!
}

const isUniqueViolation = (error: unknown) => [(error as { code?: string }).code, (error as { cause?: { code?: string } }).cause?.code].includes('23505')
