import { asc, eq } from 'drizzle-orm'
import { createError } from 'h3'
import { z } from 'zod'
import type { Macro, MacroChanges, MacroCreate, MacroUpdate } from '../../shared/types/macros'
import { useDb } from '../db/client'
import { macros } from '../db/schema'

const isUuid = (id: string) => z.uuid().safeParse(id).success
const notFound = () => createError({ statusCode: 404, statusMessage: 'Not Found', message: 'Macro not found.' })
const taken = () => createError({ statusCode: 409, statusMessage: 'Conflict', message: 'Name: another macro already has this name.', data: { issues: [{ field: 'name', problem: 'another macro already has this name' }] } })

type Row = typeof macros.$inferSelect
function toMacro(row: Row): Macro {
  return { id: row.id, name: row.name, body: row.body, changes: row.changes as MacroChanges, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() }
}

const isUniqueViolation = (error: unknown) => (error as { code?: string, cause?: { code?: string } }).code === '23505' || (error as { cause?: { code?: string } }).cause?.code === '23505'

export async function listMacros(): Promise<Macro[]> {
  const db = await useDb()
  return (await db.select().from(macros).orderBy(asc(macros.name))).map(toMacro)
}

export async function createMacro(actorId: string, input: MacroCreate): Promise<Macro> {
  const db = await useDb()
  try {
    const [row] = await db.insert(macros).values({ ...input, createdBy: actorId }).returning()
    return toMacro(row!)
  }
  catch (error) {
    if (isUniqueViolation(error)) throw taken()
    throw error
  }
}

export async function updateMacro(id: string, patch: MacroUpdate): Promise<Macro> {
  if (!isUuid(id)) throw notFound()
  const db = await useDb()
  try {
    const [row] = await db.update(macros).set({ ...patch, updatedAt: new Date() }).where(eq(macros.id, id)).returning()
    if (!row) throw notFound()
    return toMacro(row)
  }
  catch (error) {
    if (isUniqueViolation(error)) throw taken()
    throw error
  }
}

export async function deleteMacro(id: string): Promise<void> {
  if (!isUuid(id)) throw notFound()
  const db = await useDb()
  const [row] = await db.delete(macros).where(eq(macros.id, id)).returning({ id: macros.id })
  if (!row) throw notFound()
}
