import { describe, expect, it } from 'vitest'
import { cursorNumber, encodeCursor, pageOf } from '../../server/utils/cursor'

describe('keyset cursors', () => {
  it('round-trips the key of the last row', () => {
    expect(cursorNumber(encodeCursor([1042]))).toBe(1042)
  })

  it('answers 400 for cursors it did not issue', () => {
    for (const bad of ['nonsense', encodeCursor(['x']), encodeCursor([1, 2]), encodeCursor([1.5]), '%%%']) {
      expect(() => cursorNumber(bad)).toThrowError(expect.objectContaining({ statusCode: 400 }))
    }
  })

  it('gives a next cursor only when there is another page', () => {
    const rows = [{ n: 5 }, { n: 4 }, { n: 3 }]
    const full = pageOf(rows, 2, r => [r.n])
    expect(full.data).toHaveLength(2)
    expect(cursorNumber(full.meta.nextCursor!)).toBe(4)
    expect(pageOf(rows, 3, r => [r.n]).meta.nextCursor).toBeNull()
  })
})
