import type { H3Event } from 'h3'
import { createError, getQuery, getRouterParams, readBody } from 'h3'
import type { z } from 'zod'
import { badRequest } from '#server/utils/errors'

/** The path of the first string in `value` holding a NUL character (PostgreSQL cannot store one). */
function nulAt(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = nulAt(item, [...path, key])
      if (found) return found
    }
  }
  return null
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const nul = nulAt(input)
  if (nul) {
    const issue = { field: nul.join('.') || '(body)', problem: 'must not contain NUL characters' }
    throw createError({ statusCode: 400, statusMessage: 'Invalid input', message: `${issue.field}: ${issue.problem}`, data: { issues: [issue] } })
  }
  const result = schema.safeParse(input)
  if (result.success) return result.data
  throw badRequest(result.error.issues.map(i => ({ field: i.path.join('.'), problem: i.message })))
}

export async function readInput<S extends z.ZodType>(event: H3Event, schema: S): Promise<z.output<S>> {
  let body: unknown
  try {
    body = await readBody(event)
  }
  catch {
    throw createError({ statusCode: 400, statusMessage: 'Invalid JSON', message: 'The request body is not valid JSON.' })
  }
  return parseOrThrow(schema, body ?? {})
}

/** Query parameters; an empty one (`?status=`, as forms send) counts as not given. */
export function readQueryInput<S extends z.ZodType>(event: H3Event, schema: S): z.output<S> {
  return parseOrThrow(schema, Object.fromEntries(Object.entries(getQuery(event)).filter(([, v]) => v !== '')))
}

export function readParamsInput<S extends z.ZodType>(event: H3Event, schema: S): z.output<S> {
  return parseOrThrow(schema, getRouterParams(event, { decode: true }))
}
