import { staffRoles, visibilityFlags } from '#shared/utils/roles'
import type { VisibilityFlag } from '#shared/utils/roles'

export interface GroupGrants {
  /** The strongest staff role (if any), then visibility flags: what users.roles stores. */
  roles: string[]
  /** Organisation slugs, sorted. */
  orgs: string[]
}

const slug = /^[a-z0-9][a-z0-9-]{0,62}$/

/**
 * Turns the IdP's group claim into roles and organisations (the design's table):
 * `<prefix>-admins|managers|agents`, `<prefix>-visibility-org|assigned`, `<prefix>-org-<slug>`.
 * The claim is read as a set: Authentik can send a name twice, and anything that is not a
 * list of strings counts as no groups, so a malformed claim never grants more.
 */
export function grantsFromGroups(claim: unknown, prefix: string, flagGroups: Partial<Record<VisibilityFlag, string>> = {}): GroupGrants {
  const groups = new Set(
    (Array.isArray(claim) ? claim : typeof claim === 'string' ? [claim] : [])
      .filter((g): g is string => typeof g === 'string'),
  )
  const named = (suffix: string) => groups.has(`${prefix}-${suffix}`)
  const role = staffRoles.find(r => named(`${r}s`))
  // The two visibility groups may be renamed to fit an existing directory.
  const flags = visibilityFlags.filter(f => (flagGroups[f] ? groups.has(flagGroups[f]) : named(f)))
  const orgPrefix = `${prefix}-org-`
  const orgs = [...groups]
    .filter(g => g.startsWith(orgPrefix))
    .map(g => g.slice(orgPrefix.length).toLowerCase())
    .filter(s => slug.test(s))
  return { roles: [...(role ? [role] : []), ...flags], orgs: [...new Set(orgs)].sort() }
}
