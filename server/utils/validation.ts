import type { H3Event } from 'h3'
import { createError, getQuery, getRouterParams, readBody } from 'h3'
import type { z } from 'zod'
import { badRequest } from '#server/utils/errors'

/**
 * Text PostgreSQL cannot store or that is not text at all: NUL characters, and lone UTF-16
 * surrogates (which would turn into U+FFFD on the way). Refused for every input, whatever the
 * schema, so they are a 400 naming the field instead of a database error.
 */
function unstorableText(input: unknown): { field: string, problem: string }[] {
  const found: { field: string, problem: string }[] = []
  // No schema here nests deeper than a few levels; what lies deeper is left to the schema.
  const pending: [unknown, string[]][] = [[input, []]]
  while (pending.length) {
    const [value, path] = pending.pop()!
    const field = path.join('.') || '(body)'
    if (typeof value === 'string') {
      if (value.includes('\0')) found.push({ field, problem: 'must not contain NUL characters' })
      else if (!value.isWellFormed()) found.push({ field, problem: 'must be valid Unicode text' })
    }
    else if (value && typeof value === 'object' && path.length < 16) {
      for (const [key, inner] of Object.entries(value)) pending.push([inner, [...path, key]])
    }
  }
  return found
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  const unstorable = unstorableText(input)
  if (result.success && !unstorable.length) return result.data
  throw badRequest([...unstorable, ...(result.success ? [] : result.error.issues.map(i => ({ field: i.path.join('.') || '(body)', problem: i.message })))])
}

export async function readInput<S extends z.ZodType>(event: H3Event, schema: S): Promise<z.output<S>> {
  let body: unknown
  try {
    body = await readBody(event)
  }
  catch {
    throw createError({ statusCode: 400, statusMessage: 'Invalid JSON', message: 'The request body is not valid JSON.' })
  }
  // No body at all counts as `{}`; a body that is JSON `null` is not an object and is refused.
  return parseOrThrow(schema, body === undefined ? {} : body)
}

/** Query parameters; an empty one (`?status=`, as forms send) counts as not given. */
export function readQueryInput<S extends z.ZodType>(event: H3Event, schema: S): z.output<S> {
  return parseOrThrow(schema, Object.fromEntries(Object.entries(getQuery(event)).filter(([, v]) => v !== '')))
}

export function readParamsInput<S extends z.ZodType>(event: H3Event, schema: S): z.output<S> {
  return parseOrThrow(schema, getRouterParams(event, { decode: true }))
}
