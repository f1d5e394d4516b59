/**
 * Static checks of the Authentik blueprints in blueprints/.
 *
 * Authentik only reports a broken blueprint when it applies it (in the worker log / admin UI),
 * so these tests catch the usual mistakes before that: unknown or missing fields, invalid enum
 * values, dangling !KeyOf / !Find references, and changes that would silently break sign-in
 * (no refresh tokens, no groups claim, wrong redirect URI).
 *
 * Field names, required fields and enum values come from the official API client
 * `@goauthentik/api`: a blueprint entry's attrs are fed to the same serializer as an API
 * create request, so the `*Request` models describe what Authentik accepts.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseDocument, type CollectionTag, type ScalarTag } from 'yaml'
import {
  ApplicationRequestToJSON,
  BrandRequestToJSON,
  ClientTypeEnum,
  GrantTypeEnum,
  GroupRequestToJSON,
  IssuerModeEnum,
  MatchingModeEnum,
  OAuth2ProviderLogoutMethodEnum,
  OAuth2ProviderRequestToJSON,
  PolicyEngineMode,
  RedirectURIRequestToJSON,
  RedirectURITypeEnum,
  ScopeMappingRequestToJSON,
  SubModeEnum,
  instanceOfApplicationRequest,
  instanceOfBrandRequest,
  instanceOfGroupRequest,
  instanceOfOAuth2ProviderRequest,
  instanceOfRedirectURIRequest,
  instanceOfScopeMappingRequest,
} from '@goauthentik/api'

const BLUEPRINT_DIR = fileURLToPath(new URL('../../blueprints/', import.meta.url))

// ---------------------------------------------------------------------------------------------
// YAML with Authentik's custom tags
// ---------------------------------------------------------------------------------------------

/** The tags our blueprints use. Any other tag makes the parse check fail (yaml warns on it). */
type TagName = 'KeyOf' | 'Find' | 'Env' | 'Context' | 'Format'

/** A custom tag as written in the file, before evaluation. */
class BlueprintTag {
  constructor(readonly name: TagName, readonly args: readonly unknown[]) {}
}

/** `!KeyOf id`: primary key of an earlier entry of the same file. */
class KeyOfRef {
  constructor(readonly id: string) {}
}

/** `!Find [model, [field, value], …]`: primary key of an existing object. */
class FindRef {
  constructor(readonly model: string, readonly query: ReadonlyArray<readonly [string, unknown]>) {}
  describe(): string {
    return `!Find [${this.model}, ${this.query.map(([k, v]) => `[${k}, ${String(v)}]`).join(', ')}]`
  }
}

// Authentik accepts the scalar form (`!Env NAME`) and the sequence form (`!Env [NAME, default]`)
// for some tags; yaml picks the definition by node type.
const SCALAR_FORMS: readonly TagName[] = ['KeyOf', 'Env', 'Context']
const SEQUENCE_FORMS: readonly TagName[] = ['Find', 'Env', 'Context', 'Format']

const customTags: Array<ScalarTag | CollectionTag> = [
  ...SCALAR_FORMS.map((name): ScalarTag => ({
    tag: `!${name}`,
    resolve: (value: string) => new BlueprintTag(name, [value]),
  })),
  ...SEQUENCE_FORMS.map((name): CollectionTag => ({
    tag: `!${name}`,
    collection: 'seq',
    resolve: seq => new BlueprintTag(name, seq.toJSON() as unknown[]),
  })),
]

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
  && !(value instanceof BlueprintTag) && !(value instanceof KeyOfRef) && !(value instanceof FindRef)

interface Entry {
  index: number
  model: string
  id: string | undefined
  raw: Json
  /** Human-readable position for messages: file, index, model, id or identifiers. */
  label: string
}

interface BlueprintFile {
  file: string
  name: string
  context: Json
  entries: Entry[]
  /** Problems found while parsing / checking the top-level structure. */
  problems: string[]
}

function loadBlueprint(file: string): BlueprintFile {
  const problems: string[] = []
  const doc = parseDocument(readFileSync(join(BLUEPRINT_DIR, file), 'utf8'), { customTags })
  for (const issue of [...doc.errors, ...doc.warnings]) problems.push(`${file}: ${issue.message.split('\n')[0]}`)
  const result: BlueprintFile = { file, name: '', context: {}, entries: [], problems }
  let root: unknown
  try {
    root = doc.toJS()
  }
  catch (error) {
    problems.push(`${file}: ${(error as Error).message}`)
    return result
  }
  if (!isRecord(root)) {
    problems.push(`${file}: the document is not a mapping`)
    return result
  }
  for (const key of Object.keys(root)) {
    if (!['version', 'metadata', 'context', 'entries'].includes(key)) problems.push(`${file}: unknown top-level key "${key}"`)
  }
  if (root.version !== 1) problems.push(`${file}: version must be 1, is ${JSON.stringify(root.version)}`)
  const metadata = root.metadata
  if (isRecord(metadata) && typeof metadata.name === 'string' && metadata.name.trim() !== '') result.name = metadata.name
  else problems.push(`${file}: metadata.name is missing (authentik names the blueprint instance after it)`)
  if (root.context !== undefined) {
    if (isRecord(root.context)) result.context = root.context
    else problems.push(`${file}: context must be a mapping`)
  }
  if (!Array.isArray(root.entries) || root.entries.length === 0) {
    problems.push(`${file}: entries must be a non-empty list`)
    return result
  }
  root.entries.forEach((raw: unknown, index: number) => {
    if (!isRecord(raw) || typeof raw.model !== 'string') {
      problems.push(`${file} entries[${index}]: not a mapping with a "model"`)
      return
    }
    const id = typeof raw.id === 'string' ? raw.id : undefined
    const identifiers = isRecord(raw.identifiers) ? JSON.stringify(raw.identifiers) : ''
    result.entries.push({ index, model: raw.model, id, raw, label: `${file} entries[${index}] ${raw.model} ${id ? `id=${id}` : identifiers}`.trim() })
  })
  return result
}

const FILES = readdirSync(BLUEPRINT_DIR).filter(f => /\.ya?ml$/.test(f)).sort()
const BLUEPRINTS = FILES.map(loadBlueprint)

// ---------------------------------------------------------------------------------------------
// Evaluating tags the way authentik does (authentik/blueprints/v1/common.py)
// ---------------------------------------------------------------------------------------------

/**
 * Values the operator sets on the blueprint instance; they win over the file's own context.
 * Environment variables are not read: the tests must not depend on the developer's shell,
 * so `!Env [NAME, default]` evaluates to its default (as on an authentik without NAME set).
 */
type ContextOverrides = Readonly<Record<string, unknown>>

/** Python's `format % args`, limited to %s and %% (all the blueprints need). */
function pythonFormat(format: string, args: readonly unknown[]): string {
  if (/(^|[^%])(%%)*%$/.test(format)) throw new Error(`!Format "${format}": incomplete format`)
  let used = 0
  const out = format.replace(/%(.)/gs, (_match, spec: string) => {
    if (spec === '%') return '%'
    if (spec !== 's') throw new Error(`!Format: unsupported specifier %${spec}`)
    const arg = args[used++]
    if (used > args.length) throw new Error(`!Format "${format}": not enough arguments`)
    // Python would print None as "None" into a URL; treat it as the mistake it is.
    if (typeof arg !== 'string' && typeof arg !== 'number') throw new Error(`!Format "${format}": argument ${used} is ${arg === null ? 'null' : typeof arg}`)
    return String(arg)
  })
  if (used !== args.length) throw new Error(`!Format "${format}": ${args.length - used} argument(s) not used`)
  return out
}

function evaluate(value: unknown, bp: BlueprintFile, overrides: ContextOverrides = {}): unknown {
  if (value instanceof BlueprintTag) {
    const args = value.args
    switch (value.name) {
      case 'Env':
        return evaluate(args[1] ?? null, bp, overrides)
      case 'Context': {
        const key = String(args[0])
        if (key in overrides) return overrides[key]
        if (key in bp.context) return evaluate(bp.context[key], bp, overrides)
        // authentik silently yields None for an unknown key: almost always a typo.
        if (args.length < 2) throw new Error(`!Context ${key}: no such context key and no default`)
        return evaluate(args[1], bp, overrides)
      }
      case 'Format':
        return pythonFormat(String(args[0]), args.slice(1).map(a => evaluate(a, bp, overrides)))
      case 'KeyOf':
        return new KeyOfRef(String(args[0]))
      case 'Find': {
        const [model, ...pairs] = args
        const query = pairs.map((pair): [string, unknown] => {
          if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`!Find: expected [field, value] pairs, got ${JSON.stringify(pair)}`)
          return [String(evaluate(pair[0], bp, overrides)), evaluate(pair[1], bp, overrides)]
        })
        if (query.length === 0) throw new Error(`!Find [${String(model)}]: no query`)
        return new FindRef(String(evaluate(model, bp, overrides)), query)
      }
    }
  }
  if (Array.isArray(value)) return value.map(v => evaluate(v, bp, overrides))
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, bp, overrides)]))
  return value
}

/** attrs / identifiers of an entry with tags evaluated; evaluation errors become problems. */
function evaluated(entry: Entry, bp: BlueprintFile, part: 'attrs' | 'identifiers', problems: string[], overrides: ContextOverrides = {}): Json {
  const raw = entry.raw[part]
  if (raw === undefined) return {}
  try {
    const value = evaluate(raw, bp, overrides)
    if (isRecord(value)) return value
    problems.push(`${entry.label}: ${part} must be a mapping`)
  }
  catch (error) {
    problems.push(`${entry.label} ${part}: ${(error as Error).message}`)
  }
  return {}
}

// ---------------------------------------------------------------------------------------------
// What authentik accepts, derived from @goauthentik/api
// ---------------------------------------------------------------------------------------------

interface RequestSchema {
  name: string
  /** JSON (snake_case) field names. */
  fields: ReadonlySet<string>
  required: ReadonlySet<string>
}

/**
 * Reads the field list of a generated `*Request` model from its ToJSON function: a Proxy
 * records which camelCase properties it reads, the output keys are the JSON names, and
 * changing one property at a time shows which JSON key it lands in (this also catches
 * renamed keys such as `_default` → `default`). Required fields are the ones without which
 * `instanceOf…Request` answers false.
 */
function deriveRequestSchema(name: string, toJSON: (value: object) => unknown, instanceOf: (value: object) => boolean): RequestSchema {
  const read = new Set<string>()
  // Every property is an empty array: safe for plain fields, enums and `.map` over nested models.
  const probe = (override: Record<string, unknown> = {}): object => new Proxy({}, {
    get: (_target, property) => {
      if (typeof property !== 'string') return undefined
      read.add(property)
      return property in override ? override[property] : []
    },
  })
  const baseline = toJSON(probe())
  if (!isRecord(baseline)) throw new Error(`${name}: ToJSON did not return an object`)
  const camelToJson = new Map<string, string>()
  for (const property of read) {
    const changed = toJSON(probe({ [property]: ['probe'] }))
    if (!isRecord(changed)) throw new Error(`${name}: ToJSON did not return an object`)
    const keys = Object.keys(baseline).filter(k => JSON.stringify(changed[k]) !== JSON.stringify(baseline[k]))
    if (keys.length !== 1) throw new Error(`${name}.${property}: cannot tell its JSON name (${keys.join(', ') || 'none'})`)
    camelToJson.set(property, keys[0]!)
  }
  const required = new Set<string>()
  for (const [property, jsonName] of camelToJson) {
    const withoutIt = Object.fromEntries([...camelToJson.keys()].filter(p => p !== property).map(p => [p, []]))
    if (!instanceOf(withoutIt)) required.add(jsonName)
  }
  return { name, fields: new Set(camelToJson.values()), required }
}

/** Members of a generated enum, without the generator's catch-all for unknown values. */
function enumValues(enumObject: Readonly<Record<string, string>>): readonly string[] {
  return Object.entries(enumObject).filter(([key]) => key !== 'UnknownDefaultOpenApi').map(([, value]) => value)
}

const FLOW = 'authentik_flows.flow'
const CERTIFICATE = 'authentik_crypto.certificatekeypair'
const SCOPE_MAPPING = 'authentik_providers_oauth2.scopemapping'
const OAUTH2_PROVIDER = 'authentik_providers_oauth2.oauth2provider'
const APPLICATION = 'authentik_core.application'
const GROUP = 'authentik_core.group'
const BRAND = 'authentik_brands.brand'
const META_APPLY = 'authentik_blueprints.metaapplyblueprint'

interface ObjectSpec {
  schema: RequestSchema
  /** field → allowed values (of the field, or of each item when it is a list). */
  enums?: Readonly<Record<string, readonly string[]>>
  /** field → spec of each item of a list of objects. */
  nested?: Readonly<Record<string, ObjectSpec>>
  /** field → model a !KeyOf / !Find in that field must point at. */
  references?: Readonly<Record<string, string>>
}

const MODELS: Readonly<Record<string, ObjectSpec>> = {
  [GROUP]: {
    schema: deriveRequestSchema('GroupRequest', GroupRequestToJSON, instanceOfGroupRequest),
    references: { parents: GROUP },
  },
  [SCOPE_MAPPING]: {
    schema: deriveRequestSchema('ScopeMappingRequest', ScopeMappingRequestToJSON, instanceOfScopeMappingRequest),
  },
  [OAUTH2_PROVIDER]: {
    schema: deriveRequestSchema('OAuth2ProviderRequest', OAuth2ProviderRequestToJSON, instanceOfOAuth2ProviderRequest),
    enums: {
      client_type: enumValues(ClientTypeEnum),
      grant_types: enumValues(GrantTypeEnum),
      sub_mode: enumValues(SubModeEnum),
      issuer_mode: enumValues(IssuerModeEnum),
      logout_method: enumValues(OAuth2ProviderLogoutMethodEnum),
    },
    nested: {
      redirect_uris: {
        schema: deriveRequestSchema('RedirectURIRequest', RedirectURIRequestToJSON, instanceOfRedirectURIRequest),
        enums: { matching_mode: enumValues(MatchingModeEnum), redirect_uri_type: enumValues(RedirectURITypeEnum) },
      },
    },
    references: {
      authentication_flow: FLOW,
      authorization_flow: FLOW,
      invalidation_flow: FLOW,
      property_mappings: SCOPE_MAPPING,
      signing_key: CERTIFICATE,
      encryption_key: CERTIFICATE,
    },
  },
  [APPLICATION]: {
    schema: deriveRequestSchema('ApplicationRequest', ApplicationRequestToJSON, instanceOfApplicationRequest),
    enums: { policy_engine_mode: enumValues(PolicyEngineMode) },
    references: { provider: OAUTH2_PROVIDER },
  },
  [BRAND]: {
    schema: deriveRequestSchema('BrandRequest', BrandRequestToJSON, instanceOfBrandRequest),
    references: {
      flow_authentication: FLOW,
      flow_invalidation: FLOW,
      flow_user_settings: FLOW,
      flow_recovery: FLOW,
      flow_unenrollment: FLOW,
      flow_user_switch: FLOW,
      flow_device_code: FLOW,
      flow_lockdown: FLOW,
      flow_request: FLOW,
      default_application: APPLICATION,
      web_certificate: CERTIFICATE,
      client_certificates: CERTIFICATE,
    },
  },
}

/**
 * Objects every authentik installation ships (default blueprints and the certificate created on
 * first start), so a !Find may point at them without a matching entry in blueprints/.
 */
const SHIPPED_BY_AUTHENTIK: ReadonlyArray<{ model: string, field: string, value: string }> = [
  { model: FLOW, field: 'slug', value: 'default-authentication-flow' },
  { model: FLOW, field: 'slug', value: 'default-invalidation-flow' },
  { model: FLOW, field: 'slug', value: 'default-user-settings-flow' },
  { model: FLOW, field: 'slug', value: 'default-provider-authorization-implicit-consent' },
  { model: FLOW, field: 'slug', value: 'default-provider-authorization-explicit-consent' },
  { model: FLOW, field: 'slug', value: 'default-provider-invalidation-flow' },
  { model: CERTIFICATE, field: 'name', value: 'authentik Self-signed Certificate' },
  { model: SCOPE_MAPPING, field: 'managed', value: 'goauthentik.io/providers/oauth2/scope-openid' },
  { model: SCOPE_MAPPING, field: 'managed', value: 'goauthentik.io/providers/oauth2/scope-email' },
  { model: SCOPE_MAPPING, field: 'managed', value: 'goauthentik.io/providers/oauth2/scope-profile' },
  { model: SCOPE_MAPPING, field: 'managed', value: 'goauthentik.io/providers/oauth2/scope-offline_access' },
]

const ENTRY_KEYS = new Set(['model', 'state', 'id', 'identifiers', 'attrs', 'conditions', 'permissions'])
// authentik's timedelta_string_validator format, e.g. "hours=1;minutes=2".
const DURATION = /^(weeks|days|hours|minutes|seconds|milliseconds|microseconds)=\d+(;(weeks|days|hours|minutes|seconds|milliseconds|microseconds)=\d+)*$/

function durationSeconds(value: string): number {
  const unit: Record<string, number> = { weeks: 604800, days: 86400, hours: 3600, minutes: 60, seconds: 1, milliseconds: 0.001, microseconds: 0.000001 }
  return value.split(';').reduce((sum, part) => {
    const [name, amount] = part.split('=')
    return sum + Number(amount) * (unit[name!] ?? Number.NaN)
  }, 0)
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

function checkObject(spec: ObjectSpec, value: Json, identifiers: Json, where: string, problems: string[]): void {
  for (const [field, fieldValue] of Object.entries(value)) {
    if (!spec.schema.fields.has(field)) {
      problems.push(`${where}.${field}: unknown field (not in ${spec.schema.name}: ${[...spec.schema.fields].join(', ')})`)
      continue
    }
    const allowed = spec.enums?.[field]
    if (allowed) {
      const values = Array.isArray(fieldValue) ? fieldValue : [fieldValue]
      for (const v of values) {
        if (typeof v === 'string' && !allowed.includes(v)) problems.push(`${where}.${field}: "${v}" is not one of ${allowed.join(', ')}`)
      }
    }
    if (/(_validity|_threshold)$/.test(field) && typeof fieldValue === 'string' && !DURATION.test(fieldValue)) {
      problems.push(`${where}.${field}: "${fieldValue}" is not a duration like "minutes=5" or "hours=1;minutes=30"`)
    }
    const nested = spec.nested?.[field]
    if (nested) {
      if (!Array.isArray(fieldValue)) problems.push(`${where}.${field}: must be a list`)
      else fieldValue.forEach((item, i) => {
        if (isRecord(item)) checkObject(nested, item, {}, `${where}.${field}[${i}]`, problems)
        else problems.push(`${where}.${field}[${i}]: must be a mapping`)
      })
    }
  }
  // authentik merges identifiers into attrs before validating, so either may carry a required field.
  for (const field of spec.schema.required) {
    if (!(field in value) && !(field in identifiers)) problems.push(`${where}: required field "${field}" is missing (${spec.schema.name})`)
  }
}

/** All !KeyOf / !Find values inside a value, with the attrs field they sit in. */
function references(value: unknown, field: string): Array<{ field: string, ref: KeyOfRef | FindRef }> {
  if (value instanceof KeyOfRef || value instanceof FindRef) return [{ field, ref: value }]
  if (Array.isArray(value)) return value.flatMap(v => references(v, field))
  if (isRecord(value)) return Object.values(value).flatMap(v => references(v, field))
  return []
}

/**
 * Entries of all files that a !Find would match: same model, every queried field equal to one
 * of the entry's identifiers. Identifiers only, because a lookup by a non-unique field (say
 * scope_name) could as well find some other application's object in a real authentik.
 */
function findTargets(ref: FindRef): Array<{ bp: BlueprintFile, entry: Entry }> {
  const hits: Array<{ bp: BlueprintFile, entry: Entry }> = []
  for (const bp of BLUEPRINTS) {
    for (const entry of bp.entries) {
      if (entry.model !== ref.model) continue
      const identifiers = evaluated(entry, bp, 'identifiers', [])
      if (ref.query.every(([field, value]) => field in identifiers && identifiers[field] === value)) hits.push({ bp, entry })
    }
  }
  return hits
}

function metaApplied(bp: BlueprintFile, before: number): Set<string> {
  const names = new Set<string>()
  for (const entry of bp.entries) {
    if (entry.model !== META_APPLY || entry.index >= before) continue
    const attrs = evaluated(entry, bp, 'attrs', [])
    if (isRecord(attrs.identifiers) && typeof attrs.identifiers.name === 'string') names.add(attrs.identifiers.name)
  }
  return names
}

function checkReferences(bp: BlueprintFile, entry: Entry, attrs: Json, spec: ObjectSpec | undefined, problems: string[]): void {
  for (const { field, ref } of Object.entries(attrs).flatMap(([f, v]) => references(v, f))) {
    const where = `${entry.label} attrs.${field}`
    let targetModel: string | undefined
    if (ref instanceof KeyOfRef) {
      const target = bp.entries.find(e => e.id === ref.id)
      if (!target) {
        problems.push(`${where}: !KeyOf ${ref.id} names no entry id in ${bp.file}`)
        continue
      }
      // authentik resolves !KeyOf from entries already applied in this run.
      if (target.index >= entry.index) problems.push(`${where}: !KeyOf ${ref.id} refers to a later entry (entries[${target.index}])`)
      targetModel = target.model
    }
    else {
      targetModel = ref.model
      const hits = findTargets(ref)
      const shipped = ref.query.length === 1 && SHIPPED_BY_AUTHENTIK.some(s =>
        s.model === ref.model && s.field === ref.query[0]![0] && s.value === ref.query[0]![1])
      if (hits.length === 0 && !shipped) {
        problems.push(`${where}: ${ref.describe()} matches no entry in blueprints/ and no object authentik ships by default`)
      }
      for (const hit of hits) {
        // A !Find evaluated before its target exists yields null: the target must be applied first.
        if (hit.bp === bp && hit.entry.index >= entry.index) {
          problems.push(`${where}: ${ref.describe()} matches a later entry (${hit.entry.label})`)
        }
        if (hit.bp !== bp && !metaApplied(bp, entry.index).has(hit.bp.name)) {
          problems.push(`${where}: ${ref.describe()} matches ${hit.entry.label}; add an earlier ${META_APPLY} entry for "${hit.bp.name}"`)
        }
      }
    }
    const expected = spec?.references?.[field]
    if (!expected) problems.push(`${where}: a reference in a field that takes none`)
    else if (targetModel !== expected) problems.push(`${where}: points at ${targetModel}, the field takes ${expected}`)
  }
}

function checkEntry(bp: BlueprintFile, entry: Entry): string[] {
  const problems: string[] = []
  for (const key of Object.keys(entry.raw)) {
    if (!ENTRY_KEYS.has(key)) problems.push(`${entry.label}: unknown entry key "${key}"`)
  }
  const attrs = evaluated(entry, bp, 'attrs', problems)

  if (entry.model === META_APPLY) {
    // Not an API model: it applies another blueprint instance (named after its metadata.name).
    for (const key of Object.keys(attrs)) {
      if (!['identifiers', 'required'].includes(key)) problems.push(`${entry.label} attrs.${key}: unknown field`)
    }
    const name = isRecord(attrs.identifiers) ? attrs.identifiers.name : undefined
    if (!BLUEPRINTS.some(other => other !== bp && other.name === name)) {
      problems.push(`${entry.label} attrs.identifiers.name: "${String(name)}" is not the metadata.name of another file in blueprints/`)
    }
    return problems
  }

  const spec = MODELS[entry.model]
  if (!spec) {
    problems.push(`${entry.label}: model "${entry.model}" is unknown to this test; map it to its @goauthentik/api *Request model`)
    return problems
  }
  if (entry.raw.state !== 'present') {
    problems.push(`${entry.label}: state must be "present" so re-applying keeps the object in sync (is ${JSON.stringify(entry.raw.state)})`)
  }
  const identifiers = evaluated(entry, bp, 'identifiers', problems)
  if (Object.keys(identifiers).length === 0) problems.push(`${entry.label}: no identifiers; re-applying would create duplicates`)
  for (const field of Object.keys(identifiers)) {
    if (field !== 'pk' && !spec.schema.fields.has(field)) problems.push(`${entry.label} identifiers.${field}: unknown field (${spec.schema.name})`)
  }
  if (entry.raw.conditions !== undefined) {
    try {
      if (!Array.isArray(evaluate(entry.raw.conditions, bp))) problems.push(`${entry.label}: conditions must be a list`)
    }
    catch (error) {
      problems.push(`${entry.label} conditions: ${(error as Error).message}`)
    }
  }
  checkObject(spec, attrs, identifiers, `${entry.label} attrs`, problems)
  checkReferences(bp, entry, attrs, spec, problems)
  return problems
}

// ---------------------------------------------------------------------------------------------
// Helpers for the behaviour tests
// ---------------------------------------------------------------------------------------------

function entriesOf(model: string): Array<{ bp: BlueprintFile, entry: Entry }> {
  return BLUEPRINTS.flatMap(bp => bp.entries.filter(e => e.model === model).map(entry => ({ bp, entry })))
}

function only(model: string): { bp: BlueprintFile, entry: Entry } {
  const all = entriesOf(model)
  expect(all.map(a => a.entry.label), `exactly one ${model} entry expected`).toHaveLength(1)
  return all[0]!
}

function attrsOf(target: { bp: BlueprintFile, entry: Entry }, overrides: ContextOverrides = {}): Json {
  const problems: string[] = []
  const attrs = evaluated(target.entry, target.bp, 'attrs', problems, overrides)
  expect(problems).toEqual([])
  return attrs
}

/** Name of the environment variable a value comes from (directly or through the context). */
function envVariableBehind(value: unknown, bp: BlueprintFile): string | undefined {
  if (!(value instanceof BlueprintTag)) return undefined
  if (value.name === 'Env') return String(value.args[0])
  if (value.name === 'Context') return envVariableBehind(bp.context[String(value.args[0])], bp)
  return undefined
}

const DESIGN_GROUPS = [
  'helpdesk-admins',
  'helpdesk-managers',
  'helpdesk-agents',
  'helpdesk-visibility-org',
  'helpdesk-visibility-assigned',
  'helpdesk-org-example',
]

const MANAGED_SCOPES = ['openid', 'email', 'profile', 'offline_access']

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('the checks themselves', () => {
  it('read field lists from @goauthentik/api', () => {
    // If the generated code changes shape, the derivation must fail loudly, not pass everything.
    const provider = MODELS[OAUTH2_PROVIDER]!.schema
    expect([...provider.required].sort()).toEqual(['authorization_flow', 'invalidation_flow', 'name', 'redirect_uris'])
    expect(provider.fields.has('sub_mode')).toBe(true)
    expect(MODELS[BRAND]!.schema.fields.has('default')).toBe(true)
    expect(enumValues(SubModeEnum)).toContain('hashed_user_id')
    expect(enumValues(SubModeEnum)).not.toContain(SubModeEnum.UnknownDefaultOpenApi)
  })

  it('evaluate %s formatting like Python', () => {
    expect(pythonFormat('%s/cb %%', ['x'])).toBe('x/cb %')
    expect(() => pythonFormat('%s/%s', ['x'])).toThrow(/not enough/)
    expect(() => pythonFormat('%s', [null])).toThrow(/null/)
  })
})

describe('blueprint files', () => {
  it('exist', () => {
    expect(FILES.length).toBeGreaterThan(0)
  })

  it.each(BLUEPRINTS.map(bp => [bp.file, bp] as const))('%s parses with known tags and a valid structure', (_file, bp) => {
    expect(bp.problems).toEqual([])
  })

  it('have unique metadata names and entry ids', () => {
    const problems: string[] = []
    const names = BLUEPRINTS.map(bp => bp.name)
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) problems.push(`${BLUEPRINTS[i]!.file}: metadata.name "${name}" is used twice`)
    })
    for (const bp of BLUEPRINTS) {
      const ids = bp.entries.map(e => e.id).filter((id): id is string => id !== undefined)
      ids.forEach((id, i) => {
        if (ids.indexOf(id) !== i) problems.push(`${bp.file}: id "${id}" is used twice`)
      })
    }
    expect(problems).toEqual([])
  })

  const entries = BLUEPRINTS.flatMap(bp => bp.entries.map(entry => [entry.label, bp, entry] as const))
  it.each(entries)('%s matches the authentik API and its references resolve', (_label, bp, entry) => {
    expect(checkEntry(bp, entry)).toEqual([])
  })
})

describe('Helpdesk OIDC provider', () => {
  it('grants refresh tokens and the groups claim (openid, email, profile, offline_access, groups)', () => {
    const provider = only(OAUTH2_PROVIDER)
    const mappings = attrsOf(provider).property_mappings
    expect(Array.isArray(mappings), `${provider.entry.label}: property_mappings must be a list`).toBe(true)
    const list = mappings as unknown[]

    const managed = list.filter((m): m is FindRef => m instanceof FindRef && m.query[0]?.[0] === 'managed').map(m => String(m.query[0]![1]))
    for (const scope of MANAGED_SCOPES) {
      expect(managed, `${provider.entry.label} attrs.property_mappings: missing the managed "${scope}" scope mapping`)
        .toContain(`goauthentik.io/providers/oauth2/scope-${scope}`)
    }

    // The custom mapping: a reference to a scope mapping entry with scope_name "groups".
    const groupScopes = list.flatMap((m) => {
      const target = m instanceof KeyOfRef
        ? provider.bp.entries.filter(e => e.id === m.id).map(entry => ({ bp: provider.bp, entry }))
        : m instanceof FindRef ? findTargets(m) : []
      return target.map(t => attrsOf(t)).filter(a => a.scope_name === 'groups')
    })
    expect(groupScopes, `${provider.entry.label} attrs.property_mappings: no scope mapping with scope_name "groups"`).toHaveLength(1)
    expect(String(groupScopes[0]!.expression)).toMatch(/["']groups["']\s*:/)
  })

  it.each([
    ['the default app_url', {}],
    ['an app_url set on the instance', { app_url: 'https://helpdesk.example.org' }],
  ] as const)('redirects only to /auth/oidc/callback and, after logout, to the app origin (%s)', (_case, overrides: ContextOverrides) => {
    const provider = only(OAUTH2_PROVIDER)
    const appUrl = String(evaluate(new BlueprintTag('Context', ['app_url']), provider.bp, overrides))
    const origin = new URL(appUrl).origin
    const uris = attrsOf(provider, overrides).redirect_uris
    expect(Array.isArray(uris)).toBe(true)
    const where = `${provider.entry.label} attrs.redirect_uris`
    const problems: string[] = []
    let callbacks = 0
    let logouts = 0
    ;(uris as unknown[]).forEach((uri, i) => {
      if (!isRecord(uri) || typeof uri.url !== 'string') return void problems.push(`${where}[${i}]: no url`)
      if (uri.matching_mode !== 'strict') problems.push(`${where}[${i}]: matching_mode must be strict, is ${String(uri.matching_mode)}`)
      const url = new URL(uri.url)
      if ((uri.redirect_uri_type ?? 'authorization') === 'authorization') {
        callbacks++
        if (uri.url !== `${origin}/auth/oidc/callback`) problems.push(`${where}[${i}]: ${uri.url} is not ${origin}/auth/oidc/callback`)
      }
      else {
        logouts++
        if (url.origin !== origin || url.pathname !== '/' || url.search || url.hash) problems.push(`${where}[${i}]: post-logout ${uri.url} is not the app origin ${origin}`)
      }
    })
    if (callbacks === 0) problems.push(`${where}: no authorization redirect URI`)
    if (logouts === 0) problems.push(`${where}: no post-logout redirect URI`)
    expect(problems).toEqual([])
  })

  it('is a confidential client whose id and secret come from the environment, never from the file', () => {
    const provider = only(OAUTH2_PROVIDER)
    const raw = provider.entry.raw.attrs as Json
    const attrs = attrsOf(provider)
    expect(attrs.client_type, `${provider.entry.label} attrs.client_type`).toBe('confidential')
    expect(envVariableBehind(raw.client_id, provider.bp), `${provider.entry.label} attrs.client_id`).toBe('HELPDESK_OIDC_CLIENT_ID')
    expect(envVariableBehind(raw.client_secret, provider.bp), `${provider.entry.label} attrs.client_secret`).toBe('HELPDESK_OIDC_CLIENT_SECRET')
    // No default secret: an unset variable must fail the blueprint, not create a known secret.
    expect(attrs.client_secret, `${provider.entry.label} attrs.client_secret default`).toBeNull()
    expect(attrs.grant_types).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']))
  })

  it('signs RS256 tokens with a key pair, issues per provider and puts claims into the ID token', () => {
    const provider = only(OAUTH2_PROVIDER)
    const attrs = attrsOf(provider)
    const where = provider.entry.label
    expect(attrs.signing_key, `${where} attrs.signing_key`).toBeInstanceOf(FindRef)
    expect((attrs.signing_key as FindRef).model).toBe(CERTIFICATE)
    // An encryption key turns tokens into JWEs, which the app does not decrypt.
    expect(attrs.encryption_key, `${where} attrs.encryption_key`).toBeUndefined()
    expect(attrs.issuer_mode, `${where} attrs.issuer_mode`).toBe('per_provider')
    expect(attrs.include_claims_in_id_token, `${where} attrs.include_claims_in_id_token`).toBe(true)
    const access = durationSeconds(String(attrs.access_token_validity))
    const refresh = durationSeconds(String(attrs.refresh_token_validity))
    expect(access, `${where} attrs.access_token_validity (seconds)`).toBeLessThanOrEqual(15 * 60)
    expect(refresh, `${where} attrs.refresh_token_validity (seconds)`).toBeGreaterThan(access)
  })

  it('belongs to the application with slug "helpdesk" (issuer …/application/o/helpdesk/)', () => {
    const provider = only(OAUTH2_PROVIDER)
    const application = only(APPLICATION)
    const identifiers = evaluated(application.entry, application.bp, 'identifiers', [])
    const attrs = attrsOf(application)
    expect({ ...attrs, ...identifiers }.slug, `${application.entry.label} slug`).toBe('helpdesk')
    expect(attrs.provider, `${application.entry.label} attrs.provider`).toEqual(new KeyOfRef(provider.entry.id ?? '<provider has no id>'))
    expect(application.bp, 'application and provider must share a file for !KeyOf').toBe(provider.bp)
  })
})

describe('Helpdesk groups', () => {
  it('include every group of the design, none of them authentik superusers', () => {
    const groups = entriesOf(GROUP).map(g => ({
      label: g.entry.label,
      data: { ...attrsOf(g), ...evaluated(g.entry, g.bp, 'identifiers', []) },
    }))
    expect(groups.map(g => g.data.name)).toEqual(expect.arrayContaining(DESIGN_GROUPS))
    expect(groups.filter(g => g.data.is_superuser === true).map(g => g.label)).toEqual([])
  })

  // Authentik runs mappings as Python; python3 is on every machine this project builds on.
  it('mapping expression returns the sorted, de-duplicated names of direct and inherited groups (runs python3)', () => {
    expect(spawnSync('python3', ['--version']).status, 'python3 is needed to run the groups mapping').toBe(0)
    const mapping = entriesOf(SCOPE_MAPPING).map(t => attrsOf(t)).find(a => a.scope_name === 'groups')
    expect(mapping, 'no scope mapping with scope_name "groups"').toBeDefined()
    // authentik runs a mapping as the body of a function that receives request, user, … .
    // The stub user offers all_groups() (direct + ancestors, authentik ≥ 2025) with a duplicate.
    const script = `
import json, sys, textwrap
class Group:
    def __init__(self, name): self.name = name
class QuerySet(list):
    def all(self): return self
class User:
    def all_groups(self):
        return QuerySet(Group(n) for n in ["helpdesk-org-acme", "helpdesk-agents", "staff", "helpdesk-agents"])
class Request:
    user = User()
source = "def handler(request, user):\\n" + textwrap.indent(sys.stdin.read(), "    ")
namespace = {}
exec(source, namespace)
print(json.dumps(namespace["handler"](Request(), Request.user)))
`
    const run = spawnSync('python3', ['-c', script], { input: String(mapping!.expression), encoding: 'utf8' })
    expect(run.stderr, 'python error in the groups mapping expression').toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ groups: ['helpdesk-agents', 'helpdesk-org-acme', 'staff'] })
  })
})

describe('Helpdesk brand', () => {
  const conditionsHold = (target: { bp: BlueprintFile, entry: Entry }, overrides: ContextOverrides): boolean => {
    const conditions = evaluate(target.entry.raw.conditions ?? [], target.bp, overrides)
    return Array.isArray(conditions) && conditions.every(Boolean)
  }

  it('is not applied until a domain is set, so no existing brand or hostname is taken over', () => {
    const brand = only(BRAND)
    expect(conditionsHold(brand, {}), `${brand.entry.label}: applies with the default context`).toBe(false)
  })

  it('with a domain, brands that domain only, as "Helpdesk", with authentik\'s default flows', () => {
    const brand = only(BRAND)
    const overrides = { brand_domain: 'login.helpdesk.example.org' }
    expect(conditionsHold(brand, overrides), `${brand.entry.label}: conditions with a domain`).toBe(true)
    const identifiers = evaluated(brand.entry, brand.bp, 'identifiers', [], overrides)
    const attrs = attrsOf(brand, overrides)
    expect(identifiers.domain, `${brand.entry.label} identifiers.domain`).toBe('login.helpdesk.example.org')
    expect(attrs.default, `${brand.entry.label} attrs.default`).toBe(false)
    expect(attrs.branding_title, `${brand.entry.label} attrs.branding_title`).toBe('Helpdesk')
    expect(attrs.flow_authentication, `${brand.entry.label} attrs.flow_authentication`).toBeInstanceOf(FindRef)
  })
})
