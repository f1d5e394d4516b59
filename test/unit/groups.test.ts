import { describe, expect, it } from 'vitest'
import { grantsFromGroups } from '../../server/services/auth/groups'

describe('groups to roles and organisations', () => {
  it('makes someone without helpdesk groups a requester of no organisation', () => {
    expect(grantsFromGroups([], 'helpdesk')).toEqual({ roles: [], orgs: [] })
    expect(grantsFromGroups(undefined, 'helpdesk')).toEqual({ roles: [], orgs: [] })
    expect(grantsFromGroups(['authentik Admins', 'staff'], 'helpdesk')).toEqual({ roles: [], orgs: [] })
  })

  it('maps each role group, keeping only the strongest role', () => {
    expect(grantsFromGroups(['helpdesk-agents'], 'helpdesk').roles).toEqual(['agent'])
    expect(grantsFromGroups(['helpdesk-managers'], 'helpdesk').roles).toEqual(['manager'])
    expect(grantsFromGroups(['helpdesk-agents', 'helpdesk-admins'], 'helpdesk').roles).toEqual(['admin'])
  })

  it('adds visibility flags and organisations, created from helpdesk-org-<slug>', () => {
    expect(grantsFromGroups(['helpdesk-org-globex', 'helpdesk-visibility-org', 'helpdesk-org-acme'], 'helpdesk'))
      .toEqual({ roles: ['visibility-org'], orgs: ['acme', 'globex'] })
    expect(grantsFromGroups(['helpdesk-agents', 'helpdesk-visibility-assigned'], 'helpdesk').roles).toEqual(['agent', 'visibility-assigned'])
  })

  it('treats the claim as a set: duplicates from several Authentik mappings count once', () => {
    const claim = ['helpdesk-agents', 'helpdesk-org-acme', 'helpdesk-agents', 'helpdesk-org-acme']
    expect(grantsFromGroups(claim, 'helpdesk')).toEqual({ roles: ['agent'], orgs: ['acme'] })
  })

  it('honours another prefix and ignores groups of the default one', () => {
    expect(grantsFromGroups(['support-admins', 'helpdesk-admins', 'support-org-initech'], 'support'))
      .toEqual({ roles: ['admin'], orgs: ['initech'] })
  })

  it('never grants from malformed claims or organisation names', () => {
    expect(grantsFromGroups('helpdesk-admins', 'helpdesk').roles).toEqual(['admin'])
    expect(grantsFromGroups({ 0: 'helpdesk-admins' }, 'helpdesk')).toEqual({ roles: [], orgs: [] })
    expect(grantsFromGroups([42, null, 'helpdesk-admins-x', 'helpdesk-org-', 'helpdesk-org-no spaces', 'helpdesk-org-Acme'], 'helpdesk'))
      .toEqual({ roles: [], orgs: ['acme'] })
  })

  it('honours renamed visibility groups, and then only those names', () => {
    const names = { 'visibility-org': 'Customers see their company', 'visibility-assigned': 'Contractors' } as const
    expect(grantsFromGroups(['helpdesk-agents', 'Contractors'], 'helpdesk', names).roles).toEqual(['agent', 'visibility-assigned'])
    expect(grantsFromGroups(['Customers see their company'], 'helpdesk', names).roles).toEqual(['visibility-org'])
    expect(grantsFromGroups(['helpdesk-visibility-org'], 'helpdesk', names).roles).toEqual([])
  })
})
