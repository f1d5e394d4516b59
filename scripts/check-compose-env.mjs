// Checks deploy/compose.yaml against an env file, the way `docker compose --env-file` reads it:
// every `${…}` the compose file uses must be set in the env file (`:?` ones non-empty), and the env
// file must not carry variables the compose file never reads. Run in CI against
// deploy/.env.compose.example; run it against your real deploy/.env before a start, where
// placeholders (`change-me`) are refused too.
//
//   node scripts/check-compose-env.mjs [env file] [--compose deploy/compose.yaml]
//   node scripts/check-compose-env.mjs deploy/.env --print-env app   # a service's resolved environment, as JSON
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

/** `KEY=value` lines as docker compose reads them: comments and blank lines skipped, one level of quotes removed. */
export function parseEnvFile(text) {
  const values = new Map()
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (!match) throw new Error(`line ${index + 1}: not KEY=value: ${raw}`)
    let value = match[2]
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1)
    values.set(match[1], value)
  }
  return values
}

// ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, ${NAME+alt}, $NAME; $$ is a literal $.
const reference = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g

/** Every interpolation in the compose file, with its line. */
export function interpolations(text) {
  const found = []
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trimStart().startsWith('#')) continue
    for (const match of line.matchAll(reference)) {
      if (match[0] === '$$') continue
      found.push({ name: match[1] ?? match[4], operator: match[2] ?? '', line: index + 1 })
    }
  }
  return found
}

/** A value with its variables replaced, by compose's rules for each operator. */
export function interpolate(text, values) {
  return text.replace(reference, (whole, name, operator = '', argument = '', bare) => {
    if (whole === '$$') return '$'
    const key = name ?? bare
    const set = values.has(key)
    const value = values.get(key) ?? ''
    switch (operator) {
      case ':-': return value || argument
      case '-': return set ? value : argument
      case ':+': return value ? argument : ''
      case '+': return set ? argument : ''
      default: return value
    }
  })
}

/** The parsed compose file with every string interpolated (compose parses first, then interpolates). */
export function resolveCompose(composeText, values) {
  const walk = node => typeof node === 'string'
    ? interpolate(node, values)
    : Array.isArray(node)
      ? node.map(walk)
      : node && typeof node === 'object' ? Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)])) : node
  return walk(parse(composeText, { merge: true }))
}

const placeholder = /change-?me/i
const isPlaceholder = value => placeholder.test(value) || placeholder.test(Buffer.from(value, 'base64').toString('latin1'))

/** What is wrong with the env file for this compose file; empty when nothing is. */
export function problems(composeText, values, { allowPlaceholders }) {
  const found = []
  const used = new Set()
  for (const { name, operator, line } of interpolations(composeText)) {
    used.add(name)
    if (!values.has(name)) found.push(`${name} (compose line ${line}) is not set in the env file`)
    else if (operator.startsWith(':?') && !values.get(name)) found.push(`${name} (compose line ${line}) must not be empty`)
  }
  for (const [name, value] of values) {
    if (!used.has(name)) found.push(`${name} is set in the env file but deploy/compose.yaml never reads it`)
    if (!allowPlaceholders && isPlaceholder(value)) found.push(`${name} still has its placeholder value: generate a real one (see the comment above it)`)
  }
  return [...new Set(found)]
}

function main(argv) {
  const args = [...argv]
  const option = (flag) => {
    const at = args.indexOf(flag)
    return at === -1 ? undefined : args.splice(at, 2)[1]
  }
  const composePath = option('--compose') ?? 'deploy/compose.yaml'
  const service = option('--print-env')
  const envPath = args[0] ?? 'deploy/.env.compose.example'
  const composeText = readFileSync(composePath, 'utf8')
  const values = parseEnvFile(readFileSync(envPath, 'utf8'))

  if (service) {
    const compose = resolveCompose(composeText, values)
    const environment = compose.services?.[service]?.environment
    if (!environment) throw new Error(`${composePath} has no service ${service} with an environment`)
    process.stdout.write(`${JSON.stringify(environment, null, 2)}\n`)
    return 0
  }

  const found = problems(composeText, values, { allowPlaceholders: envPath.endsWith('.example') })
  if (found.length) {
    console.error(`${envPath} does not fit ${composePath}:\n${found.map(p => `  - ${p}`).join('\n')}`)
    return 1
  }
  console.log(`${envPath}: every variable of ${composePath} is set (${values.size} variables)`)
  return 0
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main(process.argv.slice(2)))
