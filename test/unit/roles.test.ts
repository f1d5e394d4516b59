import { describe, expect, it } from 'vitest'
import { hasRole, isStaff, primaryRole } from '../../shared/utils/roles'

describe('roles', () => {
  it('treats users without a staff role as requesters', () => {
    expect(primaryRole([])).toBe('requester')
    expect(primaryRole(['visibility-org'])).toBe('requester')
    expect(isStaff(['visibility-org'])).toBe(false)
  })

  it('uses the strongest role a user has', () => {
    expect(primaryRole(['agent', 'admin'])).toBe('admin')
    expect(hasRole(['manager'], 'agent')).toBe(true)
    expect(hasRole(['agent'], 'manager')).toBe(false)
    expect(hasRole(['admin'], 'manager')).toBe(true)
  })
})
