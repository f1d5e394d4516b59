import { badRequest } from '#server/utils/errors'

/** Opaque keyset cursors: the sort key of the last row of a page, base64url-encoded JSON. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

export function decodeCursor<K extends readonly (string | number)[]>(cursor: string, isKey: (v: unknown) => v is K): K {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (isKey(value)) return value
  }
  catch { /* answered below, like any other malformed cursor */ }
  throw badRequest({ field: 'cursor', problem: 'is not one this server issued' }, 'Invalid cursor')
}

/** Splits a fetched `limit + 1` rows into a page and the cursor of the next one. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => readonly (string | number)[]) {
  const data = rows.slice(0, limit)
  const last = data.at(-1)
  return {
    data,
    meta: { nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null, limit },
  }
}

/** What a number in a cursor must fit: the column it is compared with (PostgreSQL `integer` or `bigint`). */
export type NumberColumn = 'integer' | 'bigint'
const columnRanges: Record<NumberColumn, [number, number]> = {
  integer: [-(2 ** 31), 2 ** 31 - 1],
  // bigint columns are read as JavaScript numbers: the safe integers.
  bigint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
}

/** Whether `v` is an integer the column can hold; a cursor outside it is a 400, never a database error. */
export function fitsColumn(v: unknown, column: NumberColumn): v is number {
  const [min, max] = columnRanges[column]
  return Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
}

/** The number in a cursor made of one integer key (ticket number, thread position). */
export function cursorNumber(cursor: string, column: NumberColumn = 'bigint'): number {
  return decodeCursor(cursor, (v): v is [number] => Array.isArray(v) && v.length === 1 && fitsColumn(v[0], column))[0]
}

/** The largest value of a PostgreSQL `integer` column (ticket numbers). */
export const INT4_MAX = 2_147_483_647

/** Whether `v` is an integer within [min, max] (a cursor beyond its column's range is a 400, not a 500). */
export const isIntegerIn = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
