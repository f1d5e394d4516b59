import postgres from 'postgres'
import { z } from 'zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { presignSchema, storageSettingsSchema } from '../../shared/types/attachment'
import { commentCreateSchema, ticketCreateSchema, ticketUpdateSchema } from '../../shared/types/ticket'
import { loginSchema, userCreateSchema, userUpdateSchema } from '../../shared/types/user'
import { auditQuerySchema } from '../../server/services/audit'
import { shareCreateSchema } from '../../server/services/share-links'
import { ticketListQuerySchema } from '../../server/services/ticket-list'
import { threadQuerySchema } from '../../server/services/tickets'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'

/**
 * 1,000 bad inputs across every route, generated from the routes' zod schemas: wrong types,
 * values past every limit, huge strings, Unicode edge cases (NUL, lone surrogates, bidi
 * overrides, look-alikes), missing fields, broken JSON and multipart. No answer may be a 5xx,
 * and the database must be exactly as before (a few read-only queries are simply answered).
 */
const TOTAL = 1000

// A small deterministic generator, so a failure can be replayed.
let seed = 20261201
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)

interface JsonSchema { type?: string, enum?: unknown[], const?: unknown, format?: string, pattern?: string, minLength?: number, maxLength?: number, minimum?: number, maximum?: number, maxItems?: number, items?: JsonSchema, anyOf?: JsonSchema[], properties?: Record<string, JsonSchema>, required?: string[] }

const unicodeEdges = ['a\u0000b', '\u0000', '\ud800', 'x\udc00y', '\ud83d', '\u202egnp.exe', '\u200b\u200d\ufeff', 'ｎｅｗ', 'e\u0301\u0301\u0301', '🧨'.repeat(50), '\uffff\ufffe']
const huge = 'x'.repeat(300_000)

/** Values a field of this JSON schema must refuse (the schema itself is the judge, see `refused`). */
function badValues(field: JsonSchema): unknown[] {
  const values: unknown[] = [null, {}, [], ...unicodeEdges, huge]
  const type = field.type ?? field.anyOf?.[0]?.type
  if (type === 'string') {
    values.push(12345, true, ['a'], '')
    if (field.maxLength !== undefined) values.push('y'.repeat(field.maxLength + 1), `${'é'.repeat(field.maxLength)}\u0000`)
    if (field.enum) values.push('NOT_A_CHOICE', `${field.enum[0]}\u0000`, String(field.enum[0]).toUpperCase(), ` ${field.enum[0]}\u202e`)
    if (field.format === 'uuid' || field.anyOf?.some(a => a.format === 'uuid')) values.push('00000000-0000-0000-0000-00000000000g', '1 or 1=1', '\'; drop table tickets; --')
    if (field.format === 'email') values.push('not-an-email', 'a@b\u0000.test', '@@', `${'a'.repeat(500)}@example.test`)
  }
  if (type === 'integer' || type === 'number') {
    values.push('12', 1.5, -1, true, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2)
    if (field.minimum !== undefined) values.push(field.minimum - 1)
    if (field.maximum !== undefined) values.push(field.maximum + 1)
  }
  if (type === 'boolean') values.push('true', 1, 'yes', 0)
  if (type === 'array') {
    values.push('not-an-array', [1, 2], [null], [{}], unicodeEdges, Array.from({ length: (field.maxItems ?? 50) + 1 }, (_, i) => `item-${i}`))
  }
  return values
}

interface Route {
  method: string
  path: string
  body?: z.ZodType
  query?: z.ZodType
  /** A valid input to start from, so each case breaks one thing. */
  valid?: Record<string, unknown>
}

/** Text no route may store, whatever its schema: NUL characters and lone surrogates. */
function unstorable(input: unknown): boolean {
  if (typeof input === 'string') return input.includes('\0') || !input.isWellFormed()
  return !!input && typeof input === 'object' && Object.values(input).some(unstorable)
}

/** Whether the server must refuse `input`: its schema does, or it holds unstorable text. */
function refused(schema: z.ZodType, input: unknown): boolean {
  return !schema.safeParse(input).success || unstorable(input)
}

function* bodyCases(route: Route): Generator<{ body: string }> {
  const schema = route.body!
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  const valid = route.valid ?? {}
  for (const [name, field] of Object.entries(json.properties ?? {})) {
    for (const value of badValues(field)) {
      const input = { ...valid, [name]: value }
      if (refused(schema, input)) yield { body: JSON.stringify(input) }
    }
  }
  for (const name of json.required ?? []) {
    const { [name]: _, ...missing } = valid
    yield { body: JSON.stringify(missing) }
  }
  // Whole bodies that are not the object asked for (an empty body counts as `{}`).
  for (const body of ['', '[]', 'null', '"text"', '1e999', '{', '{"title":', '\u0000\u0001', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, '{"__proto__":{"admin":true}}']) {
    let parsed: unknown
    try {
      parsed = body === '' ? {} : JSON.parse(body)
    }
    catch {
      yield { body }
      continue
    }
    if (refused(schema, parsed)) yield { body }
  }
  yield { body: JSON.stringify({ ...valid, extra: huge.repeat(4) }) }
}

function* queryCases(route: Route): Generator<string> {
  const schema = route.query!
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  for (const [name, field] of Object.entries(json.properties ?? {})) {
    const values = [...badValues(field).filter(v => typeof v === 'string' || typeof v === 'number').map(String), '%00', '%ED%A0%80', '%FF%FE', '%', 'a%2', '-1', '1e400', '0x10', 'NaN', '99999999999999999999']
    // Lone surrogates cannot be percent-encoded; their UTF-8 look-alikes (%ED%A0%80) stand in for them.
    for (const value of values.filter(v => v.isWellFormed())) {
      const encoded = /^%|%\w?$/.test(value) ? value : encodeURIComponent(value.slice(0, 12_000))
      yield `${name}=${encoded}`
    }
    yield `${name}=a&${name}=b`
    yield `${name}[x]=1`
  }
  // Cursors that look like ours but are not: wrong shapes, out-of-range numbers and dates.
  for (const key of [[1e20], [-1], [2 ** 31], ['x'], [null], ['99999-12-31T00:00:00Z', '00000000-0000-0000-0000-000000000000'], ['2026-01-01', 'not-a-uuid'], [1, 'x', 3, 4], {}, 'text', [9e15, '2026-01-01T00:00:00Z', '00000000-0000-0000-0000-000000000000']]) {
    yield `cursor=${Buffer.from(JSON.stringify(key)).toString('base64url')}`
  }
  yield 'cursor=%00%00'
}

describe('1,000 bad inputs across every route', () => {
  let app: RunningApp
  let admin: Client
  let owner: postgres.Sql
  let ticket: { id: string, number: number }
  let userId: string
  let attachmentPath: string

  beforeAll(async () => {
    app = await startApp({ RATE_LIMIT_ATTACHMENTS: '100000/1m', RATE_LIMIT_TICKETS: '100000/1m', RATE_LIMIT_LOGIN: '100000/1m' })
    owner = postgres(app.ownerDatabaseUrl!, { max: 1, onnotice: () => {} })
    admin = await signedInAdmin(app.url)
    const requester = await userClient(admin, 'requester')
    userId = requester.user.id
    ticket = (await requester.post('/api/tickets', { title: 'Fuzz target', body: 'A ticket to aim at' })).body
    const form = new FormData()
    form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt')
    const attachment = await (await admin.fetch(`/api/tickets/${ticket.id}/attachments`, { method: 'POST', body: form })).json()
    attachmentPath = `/api/tickets/${ticket.id}/attachments/${attachment.id}`
  })
  afterAll(async () => {
    await owner?.end()
    await app?.stop()
  })

  /** Every table's content, as one digest each: "nothing written" means all of them are unchanged. */
  async function snapshot(): Promise<Record<string, string>> {
    const tables = await owner<{ name: string }[]>`select tablename as name from pg_tables where schemaname = 'public' order by 1`
    const digests: Record<string, string> = {}
    for (const { name } of tables) {
      const [row] = await owner.unsafe(`select count(*)::int as n, md5(coalesce(string_agg(t::text, ',' order by t::text), '')) as digest from "${name}" t`)
      digests[name] = `${row!.n}:${row!.digest}`
    }
    return digests
  }

  it('answers every one without a server error and writes nothing', { timeout: 300_000 }, async () => {
    const t = `/api/tickets/${ticket.id}`
    const routes: Route[] = [
      { method: 'POST', path: '/api/auth/login', body: loginSchema, valid: { email: 'someone@example.test', password: 'a password' } },
      { method: 'POST', path: '/api/tickets', body: ticketCreateSchema, valid: { title: 'A title', body: 'A body' } },
      { method: 'PATCH', path: t, body: ticketUpdateSchema, valid: { priority: 'high' } },
      { method: 'POST', path: `${t}/comments`, body: commentCreateSchema, valid: { body: 'A reply' } },
      { method: 'POST', path: `${t}/attachments/presign`, body: presignSchema, valid: { filename: 'a.txt', contentType: 'text/plain', size: 5 } },
      { method: 'POST', path: `${t}/share`, body: shareCreateSchema, valid: { expiresInDays: 7 } },
      { method: 'POST', path: '/api/admin/users', body: userCreateSchema, valid: { email: 'new@example.test', name: 'New', password: 'a-long-password-here' } },
      { method: 'PATCH', path: `/api/admin/users/${userId}`, body: userUpdateSchema, valid: { name: 'Renamed' } },
      { method: 'PUT', path: '/api/admin/settings/storage', body: storageSettingsSchema, valid: { backend: 'local' } },
      { method: 'POST', path: '/api/admin/settings/storage/test', body: storageSettingsSchema, valid: { backend: 'local' } },
      { method: 'GET', path: '/api/tickets', query: ticketListQuerySchema(100) },
      { method: 'GET', path: `${t}/comments`, query: threadQuerySchema() },
      { method: 'GET', path: `${t}/events`, query: threadQuerySchema() },
      { method: 'GET', path: `${t}/attachments`, query: threadQuerySchema() },
      { method: 'GET', path: '/api/admin/audit', query: auditQuerySchema(100) },
    ]
    type Case = { method: string, path: string, body?: string, headers?: Record<string, string> }
    // One group of cases per route (and per kind of path or upload), so each gets its share.
    const groups: Case[][] = []
    for (const route of routes) {
      if (route.body) groups.push([...bodyCases(route)].map(c => ({ method: route.method, path: route.path, body: c.body, headers: { 'content-type': 'application/json' } })))
      if (route.query) groups.push([...queryCases(route)].map(q => ({ method: route.method, path: `${route.path}?${q}` })))
    }
    let cases: Case[]
    // Identifiers in paths: every route with one, given ids that cannot exist or are not ids at all.
    const badIds = ['%00', '0', '-1', '1e5', '99999999999', '2147483648', '00000000-0000-0000-0000-00000000000g', '%ED%A0%80', '%FF', '..%2F..%2Fetc', 'x'.repeat(5000), encodeURIComponent('🧨\u202e'), '1\'%20or%20\'1\'%3D\'1']
    const idRoutes = [
      ['GET', '/api/tickets/{}'], ['PATCH', '/api/tickets/{}'], ['GET', '/api/tickets/{}/comments'], ['POST', '/api/tickets/{}/comments'],
      ['GET', '/api/tickets/{}/events'], ['GET', '/api/tickets/{}/attachments'], ['POST', '/api/tickets/{}/attachments/presign'],
      ['GET', `${t}/attachments/{}`], ['DELETE', `${t}/attachments/{}`], ['POST', `${t}/attachments/{}/complete`],
      ['GET', '/api/tickets/{}/share'], ['POST', '/api/tickets/{}/share'], ['DELETE', `${t}/share/{}`],
      ['PATCH', '/api/admin/users/{}'], ['DELETE', '/api/admin/users/{}/sessions'],
      ['GET', '/api/share/{}'], ['GET', '/api/share/{}/attachments/x'], ['GET', '/s/{}'], ['PUT', '/api/uploads/{}'],
    ] as const
    for (const [method, path] of idRoutes) {
      groups.push(cases = [])
      for (const id of badIds) {
        const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify({ body: 'x', priority: 'high', filename: 'a.txt', contentType: 'text/plain', size: 5 })
        cases.push({ method, path: path.replace('{}', id), body, headers: body ? { 'content-type': 'application/json' } : {} })
      }
    }
    // Direct uploads: broken multipart, hostile file names, wrong fields.
    const multipart = (parts: string, boundary = 'fuzzboundary') => ({ body: `${parts}--${boundary}--\r\n`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } })
    groups.push(cases = [])
    const filePart = (filename: string, type = 'text/plain', field = 'file') => `--fuzzboundary\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\nhello\r\n`
    for (const filename of ['', 'a\u0000b.txt', '\ud800.txt', '../../etc/passwd', 'x'.repeat(5000), '\u202etxt.exe', 'CON', '.', 'a"b.txt']) {
      cases.push({ method: 'POST', path: `${t}/attachments`, ...multipart(filePart(filename, 'application/x-msdownload')) })
    }
    for (const parts of [filePart('a.txt', 'text/plain', 'notfile'), '--fuzzboundary\r\nContent-Disposition: form-data; name="commentId"\r\n\r\n\u0000\r\n', '--fuzzboundary\r\n\r\n', 'garbage']) {
      cases.push({ method: 'POST', path: `${t}/attachments`, ...multipart(parts) })
    }
    cases.push({ method: 'POST', path: `${t}/attachments`, body: 'not multipart', headers: { 'content-type': 'multipart/form-data' } })
    cases.push({ method: 'POST', path: `${t}/attachments`, body: 'x', headers: { 'content-type': 'application/json' } })
    cases.push({ method: 'GET', path: `${attachmentPath}?download=%00` })

    // Round robin over the groups up to the requested total, in a seeded order within each.
    const shuffled = groups.filter(g => g.length).map(g => g.map(c => ({ c, k: random() })).sort((a, b) => a.k - b.k).map(x => x.c))
    const chosen: Case[] = []
    for (let round = 0; chosen.length < TOTAL; round++) {
      for (const group of shuffled) {
        if (chosen.length < TOTAL) chosen.push(group[round % group.length]!)
      }
    }
    expect(shuffled.reduce((n, g) => n + g.length, 0)).toBeGreaterThan(TOTAL)

    const before = await snapshot()
    const serverErrors: string[] = []
    const accepted: string[] = []
    const statuses = new Map<number, number>()
    let next = 0
    const worker = async () => {
      while (next < chosen.length) {
        const c = chosen[next++]!
        const res = await admin.fetch(c.path, { method: c.method, body: c.body, headers: c.headers }).catch((error: Error) => ({ status: 599, text: async () => error.message }))
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (res.status < 300) accepted.push(`${res.status} ${c.method} ${c.path.slice(0, 160)} ${(c.body ?? '').slice(0, 160)}`)
        if (res.status >= 500) serverErrors.push(`${res.status} ${c.method} ${c.path.slice(0, 160)} ${(c.body ?? '').slice(0, 160)} → ${(await res.text()).slice(0, 200)}`)
        else await res.text()
      }
    }
    await Promise.all(Array.from({ length: 6 }, worker))

    expect(serverErrors).toEqual([])
    console.log(`fuzz: ${chosen.length} requests, answers by status: ${JSON.stringify(Object.fromEntries(statuses))}; tolerated (read-only): ${accepted.length}`)
    expect(await snapshot()).toEqual(before)
    // Still working afterwards.
    expect((await admin.get(t)).status).toBe(200)
    expect((await new Client(app.url).post('/api/auth/login', { email: 'x@example.test', password: 'y' })).status).toBe(401)
  })
})
