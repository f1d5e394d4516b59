import { randomBytes } from 'node:crypto'
import { and, asc, eq, gt, ilike, inArray, or, sql } from 'drizzle-orm'
import { createError } from 'h3'
import type { AdminUser, UserCreate } from '../../shared/types/user'
import { userCreateSchema } from '../../shared/types/user'
import { useDb } from '../db/client'
import type { Database } from '../db/client'
import { orgs, userOrgs, users } from '../db/schema'
import type { UserRow } from '../db/schema'
import { decodeCursor, pageOf } from '../utils/cursor'
import { hashPassword, verifyPassword } from '../utils/password'
import { primaryRole } from '../../shared/utils/roles'

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

export async function createUser(input: UserCreate): Promise<UserRow> {
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
  })
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
export async function ensureFirstAdmin(email: string, password?: string): Promise<{ created: boolean, password?: string }> {
  const db = await useDb()
  const [existing] = await db.select({ id: users.id }).from(users).where(sql`'admin' = any(${users.roles})`).limit(1)
  if (existing) return { created: false }
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

/** Users by email, keyset-paginated; `q` matches email or name. */
export async function listUsers(query: { q?: string, cursor?: string, limit: number }) {
  const db = await useDb()
  const rows = await db.select().from(users).where(and(
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
    .where(and(eq(users.active, true), sql`${users.roles} && array['admin','manager','agent']::text[]`))
    .orderBy(asc(users.name))
}
