import { randomBytes } from 'node:crypto'
import { and, arrayOverlaps, asc, eq, gt, ilike, inArray, isNull, notInArray, or, sql } from 'drizzle-orm'
import { createError } from 'h3'
import type { AdminUser, UserCreate, UserUpdate } from '../../shared/types/user'
import { staffRoles, userCreateSchema, visibilityFlags } from '../../shared/types/user'
import { useDb } from '../db/client'
import type { Database } from '../db/client'
import { orgs, userOrgs, users } from '../db/schema'
import type { UserRow } from '../db/schema'
import { useConfig } from '../utils/config'
import { decodeCursor, pageOf } from '../utils/cursor'
import { hashPassword, verifyPassword } from './auth/password'
import { primaryRole } from '../../shared/utils/roles'
import type { Actor } from '../utils/principal'
import { audit } from './audit'

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

export async function findUserWithOrgs(userId: string): Promise<UserWithOrgs | null> {
  const db = await useDb()
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  if (!user) return null
  return { ...user, orgs: (await orgsOf(db, [user.id])).get(user.id) ?? [] }
}

/** Organisations are created the first time anyone names them. */
export async function ensureOrgs(db: Database, slugs: string[]): Promise<string[]> {
  if (!slugs.length) return []
  await db.insert(orgs).values(slugs.map(slug => ({ slug, name: slug }))).onConflictDoNothing()
  const rows = await db.select({ id: orgs.id }).from(orgs).where(inArray(orgs.slug, slugs))
  return rows.map(r => r.id)
}

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
    if (!user) throw createError({ statusCode: 409, statusMessage: 'Email already in use', message: 'A user with this email already exists.' })
    const orgIds = await ensureOrgs(tx, data.orgs)
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
    if ((error as { code?: string, cause?: { code?: string } }).code === '23505' || (error as { cause?: { code?: string } }).cause?.code === '23505') {
      throw createError({ statusCode: 409, statusMessage: 'Email already in use', message: 'Another account already uses this email address.' })
    }
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

/** Checks an email + password pair; the same answer (null) for every kind of failure. */
export async function authenticateLocal(email: string, password: string): Promise<UserRow | null> {
  const db = await useDb()
  const [user] = await db.select().from(users).where(eq(users.email, email))
  const ok = await verifyPassword(password, user?.passwordHash)
  if (!ok || !user?.active) return null
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
  await createUser({ email, name: 'Administrator', password: password ?? generated!, role: 'admin' })
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

/** Users by email, keyset-paginated; `q` matches email or name, `org` limits to an organisation's members. */
export async function listUsers(query: { q?: string, org?: string, cursor?: string, limit: number }) {
  const db = await useDb()
  const rows = await db.select().from(users).where(and(
    query.org ? inArray(users.id, db.select({ id: userOrgs.userId }).from(userOrgs).innerJoin(orgs, eq(orgs.id, userOrgs.orgId)).where(eq(orgs.slug, query.org))) : undefined,
    query.q ? or(ilike(users.email, likePattern(query.q)), ilike(users.name, likePattern(query.q))) : undefined,
    query.cursor ? gt(users.email, decodeCursor(query.cursor, isEmailKey)[0]) : undefined,
  )).orderBy(asc(users.email)).limit(query.limit + 1)
  const page = pageOf(rows, query.limit, u => [u.email])
  const byUser = await orgsOf(db, page.data.map(r => r.id))
  return { data: page.data.map(u => toAdminUser({ ...u, orgs: byUser.get(u.id) ?? [] })), meta: page.meta }
}

/** Agents, managers and admins who can be assigned a ticket. */
export async function listAssignableStaff(): Promise<{ id: string, name: string, email: string }[]> {
  const db = await useDb()
  return db.select({ id: users.id, name: users.name, email: users.email }).from(users)
    .where(and(eq(users.active, true), arrayOverlaps(users.roles, [...staffRoles])))
    .orderBy(asc(users.name))
}

const notFoundUser = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'User not found.' })

/**
 * An admin changes a user's role, visibility flags, organisations, name or active state.
 * Deactivating ends every session at once. Admins cannot lock themselves out.
 */
export async function updateUser(actor: Actor, userId: string, patch: UserUpdate): Promise<AdminUser> {
  const actorId = actor.actorId
  const before = await findUserWithOrgs(userId)
  if (!before) throw notFoundUser()
  const managedByIdp = (['role', 'flags', 'orgs'] as const).filter(field => patch[field] !== undefined)
  if (useConfig().AUTH_MODE === 'oidc' && before.subject && managedByIdp.length) {
    // The next sign-in or renewal would undo the change: say so instead of pretending.
    throw createError({ statusCode: 400, statusMessage: 'Invalid input', message: 'Roles and organisations come from the identity provider’s groups; change them there.', data: { issues: managedByIdp.map(field => ({ field, problem: 'managed by the identity provider' })) } })
  }
  const role = patch.role ?? primaryRole(before.roles)
  const flags = patch.flags ?? before.roles.filter(r => (visibilityFlags as readonly string[]).includes(r))
  const roles = [...((staffRoles as readonly string[]).includes(role) ? [role] : []), ...flags]
  if (userId === actorId && (role !== 'admin' || patch.active === false)) {
    throw createError({ statusCode: 400, statusMessage: 'Invalid input', message: 'You cannot remove your own admin rights or deactivate yourself.', data: { issues: [{ field: patch.active === false ? 'active' : 'role', problem: 'would lock you out' }] } })
  }
  const db = await useDb()
  await db.transaction(async (tx) => {
    await tx.update(users).set({
      name: patch.name ?? before.name,
      roles,
      active: patch.active ?? before.active,
      ...(patch.active === false && before.active ? { sessionsValidAfter: new Date() } : {}),
      updatedAt: new Date(),
    }).where(eq(users.id, userId))
    if (patch.orgs) {
      await tx.delete(userOrgs).where(eq(userOrgs.userId, userId))
      const orgIds = await ensureOrgs(tx, patch.orgs)
      if (orgIds.length) await tx.insert(userOrgs).values(orgIds.map(orgId => ({ userId, orgId })))
    }
  })
  const after = toAdminUser((await findUserWithOrgs(userId))!)
  const was = toAdminUser(before)
  const changes = Object.fromEntries((['name', 'roles', 'orgs', 'active'] as const)
    .filter(k => JSON.stringify(was[k]) !== JSON.stringify(after[k]))
    .map(k => [k, { from: was[k], to: after[k] }]))
  if (Object.keys(changes).length) await audit(actor, { action: 'user_changed', target: { type: 'user', id: userId }, details: changes })
  return after
}
