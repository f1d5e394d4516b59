import { and, asc, count, eq, gt, ilike, inArray, ne, or, sql } from 'drizzle-orm'
import type { SQL } from 'drizzle-orm'
import type { OrgCreate, OrgSummary, OrgUpdate } from '#shared/types/org'
import { orgCreateSchema } from '#shared/types/org'
import { hasRole } from '#shared/utils/roles'
import { useDb } from '#server/db/client'
import type { Database } from '#server/db/client'
import { orgs, tickets, userOrgs } from '#server/db/schema'
import { useConfig } from '#server/utils/config'
import { decodeCursor, pageOf } from '#server/utils/cursor'
import { badRequest, conflict, notFound } from '#server/utils/errors'
import type { Actor, Principal } from '#server/utils/principal'
import { audit } from './audit'
import { asPrincipal, asSystem, ticketVisibility } from './visibility'

const orgNotFound = () => notFound('Organisation not found.')
const activeStatuses = ['new', 'open', 'pending'] as const

/** Admins see every organisation; managers and agents only their own. */
export function orgScope(principal: Pick<Principal, 'roles' | 'orgIds'>): SQL | undefined {
  if (hasRole(principal.roles, 'admin')) return undefined
  return principal.orgIds.length ? inArray(orgs.id, principal.orgIds) : sql`false`
}

const isSlugKey = (v: unknown): v is [string] => Array.isArray(v) && v.length === 1 && typeof v[0] === 'string'
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, c => `\\${c}`)}%`

function selectOrgs(principal: Principal, where: (SQL | undefined)[], limit: number) {
  return asPrincipal(principal, tx => tx.select({
    id: orgs.id,
    slug: orgs.slug,
    name: orgs.name,
    domains: orgs.emailDomains,
    createdAt: orgs.createdAt,
    members: sql<number>`(select count(*) from ${userOrgs} where ${userOrgs.orgId} = ${orgs.id})::int`,
    openTickets: sql<number>`(count(${tickets.id}) filter (where ${inArray(tickets.status, [...activeStatuses])}))::int`,
    tickets: sql<number>`count(${tickets.id})::int`,
  }).from(orgs).leftJoin(tickets, and(eq(tickets.orgId, orgs.id), ticketVisibility(principal)))
    .where(and(orgScope(principal), ...where))
    .groupBy(orgs.id).orderBy(asc(orgs.slug)).limit(limit))
}

const toSummary = (r: Awaited<ReturnType<typeof selectOrgs>>[number]): OrgSummary => ({ ...r, createdAt: r.createdAt.toISOString() })

/** Organisations by slug, keyset-paginated, with member and (visible) ticket counts. */
export async function listOrgs(principal: Principal, query: { q?: string, cursor?: string, limit: number }) {
  const rows = await selectOrgs(principal, [
    query.q ? or(ilike(orgs.slug, likePattern(query.q)), ilike(orgs.name, likePattern(query.q))) : undefined,
    query.cursor ? gt(orgs.slug, decodeCursor(query.cursor, isSlugKey)[0]) : undefined,
  ], query.limit + 1)
  const page = pageOf(rows, query.limit, r => [r.slug])
  return { data: page.data.map(toSummary), meta: page.meta }
}

async function summary(principal: Principal, id: string): Promise<OrgSummary> {
  const [row] = await selectOrgs(principal, [eq(orgs.id, id)], 1)
  if (!row) throw orgNotFound()
  return toSummary(row)
}

/** A mail domain belongs to one organisation at most, or new requesters could not be placed. */
async function checkDomains(db: Database, domains: string[], exceptId?: string) {
  if (!domains.length) return
  const taken = await db.select({ slug: orgs.slug, domains: orgs.emailDomains }).from(orgs)
    .where(and(sql`${orgs.emailDomains} && array[${sql.join(domains.map(d => sql`${d}`), sql`, `)}]::text[]`, exceptId ? ne(orgs.id, exceptId) : undefined))
  const clash = taken.flatMap(o => o.domains.filter(d => domains.includes(d)).map(d => `${d} (${o.slug})`))
  if (clash.length) throw badRequest({ field: 'domains', problem: `already belong to another organisation: ${clash.join(', ')}` })
}

const slugTaken = () => badRequest({ field: 'slug', problem: 'is already used by another organisation' })
const isUniqueViolation = (error: unknown) => [(error as { code?: string }).code, (error as { cause?: { code?: string } }).cause?.code].includes('23505')

export async function createOrg(actor: Actor, principal: Principal, input: OrgCreate): Promise<OrgSummary> {
  const data = orgCreateSchema.parse(input)
  const db = await useDb()
  const domains = [...new Set(data.domains)]
  await checkDomains(db, domains)
  const [row] = await db.insert(orgs).values({ slug: data.slug, name: data.name, emailDomains: domains }).onConflictDoNothing().returning({ id: orgs.id })
  if (!row) throw slugTaken()
  await audit(actor, { action: 'org_created', target: { type: 'org', id: row.id }, details: { slug: data.slug, name: data.name, domains } })
  return summary(principal, row.id)
}

/** Renames an organisation, changes its slug (local sign-in only: with SSO the slug is the group name) or its domains. */
export async function updateOrg(actor: Actor, principal: Principal, id: string, patch: OrgUpdate): Promise<OrgSummary> {
  const db = await useDb()
  const [before] = await db.select().from(orgs).where(eq(orgs.id, id))
  if (!before) throw orgNotFound()
  if (patch.slug !== undefined && patch.slug !== before.slug && useConfig().AUTH_MODE === 'oidc') {
    throw badRequest({ field: 'slug', problem: 'is the identity provider’s group name (helpdesk-org-<slug>); rename the group there' })
  }
  const domains = patch.domains && [...new Set(patch.domains)]
  if (domains) await checkDomains(db, domains, id)
  try {
    await db.update(orgs).set({
      ...(patch.slug !== undefined ? { slug: patch.slug } : {}),
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(domains ? { emailDomains: domains } : {}),
      updatedAt: new Date(),
    }).where(eq(orgs.id, id))
  }
  catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
  const changes = Object.fromEntries(([['slug', before.slug, patch.slug], ['name', before.name, patch.name], ['domains', before.emailDomains, domains]] as const)
    .filter(([, from, to]) => to !== undefined && JSON.stringify(from) !== JSON.stringify(to))
    .map(([key, from, to]) => [key, { from, to }]))
  if (Object.keys(changes).length) await audit(actor, { action: 'org_changed', target: { type: 'org', id }, details: changes })
  return summary(principal, id)
}

/** Only an empty organisation can go: no members and no tickets (history is never deleted with it). */
export async function deleteOrg(actor: Actor, principal: Principal, id: string): Promise<void> {
  const db = await useDb()
  const [org] = await db.select({ slug: orgs.slug }).from(orgs).where(eq(orgs.id, id))
  if (!org) throw orgNotFound()
  const [members] = await db.select({ n: count() }).from(userOrgs).where(eq(userOrgs.orgId, id))
  const [ticketCount] = await asSystem(tx => tx.select({ n: count() }).from(tickets).where(eq(tickets.orgId, id)))
  if (members!.n || ticketCount!.n) {
    throw conflict(`${org.slug} still has ${members!.n} members and ${ticketCount!.n} tickets; only an empty organisation can be deleted.`)
  }
  await db.delete(orgs).where(eq(orgs.id, id))
  await audit(actor, { action: 'org_deleted', target: { type: 'org', id }, details: { slug: org.slug } })
}

/** The organisations a new requester joins because of their address's domain (mail, on-behalf tickets, the admin's form). */
export async function orgIdsForEmail(db: Database, email: string): Promise<string[]> {
  const domain = email.split('@').pop()?.toLowerCase()
  if (!domain) return []
  const rows = await db.select({ id: orgs.id }).from(orgs).where(sql`${domain} = any(${orgs.emailDomains})`)
  return rows.map(r => r.id)
}
