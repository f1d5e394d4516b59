import { describe, expect, it } from 'vitest'
import { cursorNumber, encodeCursor, pageOf } from '../../server/utils/cursor'

describe('keyset cursors', () => {
  it('round-trips the key of the last row', () => {
    expect(cursorNumber(encodeCursor([1042]), 'integer')).toBe(1042)
  })

  it('answers 400 for cursors it did not issue', () => {
    for (const bad of ['nonsense', encodeCursor(['x']), encodeCursor([1, 2]), encodeCursor([1.5]), '%%%']) {
      expect(() => cursorNumber(bad, 'bigint')).toThrowError(expect.objectContaining({ statusCode: 400 }))
    }
  })

  it('gives a next cursor only when there is another page', () => {
    const rows = [{ n: 5 }, { n: 4 }, { n: 3 }]
    const full = pageOf(rows, 2, r => [r.n])
    expect(full.data).toHaveLength(2)
    expect(cursorNumber(full.meta.nextCursor!, 'integer')).toBe(4)
    expect(pageOf(rows, 3, r => [r.n]).meta.nextCursor).toBeNull()
  })
})

describe('cursors within their column\'s range', () => {
  it('refuses a number the column cannot hold with 400', () => {
    expect(() => cursorNumber(encodeCursor([2 ** 31]), 'integer')).toThrowError(expect.objectContaining({ statusCode: 400 }))
    expect(cursorNumber(encodeCursor([2 ** 31 - 1]), 'integer')).toBe(2 ** 31 - 1)
    expect(cursorNumber(encodeCursor([2 ** 40]), 'bigint')).toBe(2 ** 40)
  })
})
