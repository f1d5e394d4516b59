import { and, asc, desc, eq, or } from 'drizzle-orm'
import { createError } from 'h3'
import { z } from 'zod'
import type { SavedView, ViewCreate, ViewFilters, ViewUpdate } from '../../shared/types/views'
import { hasRole } from '../../shared/utils/roles'
import { useDb } from '../db/client'
import { savedViews, users } from '../db/schema'
import type { Principal } from '../utils/principal'

const isUuid = (id: string) => z.uuid().safeParse(id).success
const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'View not found.' })
const managersShare = () => createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only managers can share views.' })

const columns = {
  id: savedViews.id, name: savedViews.name, shared: savedViews.shared, filters: savedViews.filters,
  owner: { id: users.id, name: users.name }, createdAt: savedViews.createdAt, updatedAt: savedViews.updatedAt,
}

/** Personal views belong to their owner; shared ones are seen by everyone and kept by managers. */
function editable(principal: Principal, view: { shared: boolean, owner: { id: string } }): boolean {
  return view.shared ? hasRole(principal.roles, 'manager') : view.owner.id === principal.userId
}

type Row = { id: string, name: string, shared: boolean, filters: unknown, owner: { id: string, name: string }, createdAt: Date, updatedAt: Date }
function toView(principal: Principal, row: Row): SavedView {
  return { ...row, filters: row.filters as ViewFilters, editable: editable(principal, row), createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() }
}

const seenBy = (principal: Principal) => or(eq(savedViews.ownerId, principal.userId), eq(savedViews.shared, true))

/** The caller's own views, then the shared ones, each by name. */
export async function listViews(principal: Principal): Promise<SavedView[]> {
  const db = await useDb()
  const rows = await db.select(columns).from(savedViews).innerJoin(users, eq(users.id, savedViews.ownerId))
    .where(seenBy(principal)).orderBy(asc(savedViews.shared), asc(savedViews.name), desc(savedViews.createdAt))
  return rows.map(r => toView(principal, r))
}

async function findView(principal: Principal, id: string): Promise<SavedView> {
  if (!isUuid(id)) throw notFound()
  const db = await useDb()
  const [row] = await db.select(columns).from(savedViews).innerJoin(users, eq(users.id, savedViews.ownerId))
    .where(and(eq(savedViews.id, id), seenBy(principal)))
  if (!row) throw notFound()
  return toView(principal, row)
}

export async function createView(principal: Principal, input: ViewCreate): Promise<SavedView> {
  if (input.shared && !hasRole(principal.roles, 'manager')) throw managersShare()
  const db = await useDb()
  const [row] = await db.insert(savedViews).values({ ownerId: principal.userId, name: input.name, shared: input.shared, filters: input.filters }).returning({ id: savedViews.id })
  return findView(principal, row!.id)
}

export async function updateView(principal: Principal, id: string, patch: ViewUpdate): Promise<SavedView> {
  const view = await findView(principal, id)
  // Someone else's shared view is visible but not theirs to change: 403, its existence is no secret.
  if (!view.editable) throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only managers can change shared views.' })
  if (patch.shared !== undefined && patch.shared !== view.shared && !hasRole(principal.roles, 'manager')) throw managersShare()
  const db = await useDb()
  await db.update(savedViews).set({ ...patch, updatedAt: new Date() }).where(eq(savedViews.id, view.id))
  return findView(principal, id)
}

export async function deleteView(principal: Principal, id: string): Promise<void> {
  const view = await findView(principal, id)
  if (!view.editable) throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only managers can delete shared views.' })
  const db = await useDb()
  await db.delete(savedViews).where(eq(savedViews.id, view.id))
}
