import { lookup as lookupOnce } from 'node:dns'
import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import type { LookupFunction } from 'node:net'

/** Addresses that are not the public internet: loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved. */
const internal = new BlockList()
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) {
  internal.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) {
  internal.addSubnet(net, prefix, 'ipv6')
}

function isInternal(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  if (mapped) return internal.check(mapped, 'ipv4')
  return internal.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')
}

/** A name counts as public when it resolves to something, and to nothing internal. */
const allPublic = (addresses: string[]) => addresses.length > 0 && !addresses.some(isInternal)

/**
 * Whether a URL an admin typed in points at the public internet: every address its host resolves
 * to is checked, so a name for 127.0.0.1 or 169.254.169.254 is refused as the address itself is.
 * An unresolvable host counts as not allowed (it cannot be told apart from an internal one).
 */
export async function isPublicEndpoint(url: string): Promise<boolean> {
  let host: string
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  }
  catch {
    return false
  }
  const addresses = isIP(host) ? [host] : await lookup(host, { all: true, verbatim: true }).then(r => r.map(a => a.address), () => [])
  return allPublic(addresses)
}

/**
 * The name lookup of every connection to an endpoint checked by `isPublicEndpoint`: the name is
 * resolved again as the connection is made, and refused if any address it now resolves to is
 * internal. So a name that was public when an admin saved it cannot be pointed at the server's
 * own network afterwards (DNS rebinding). An address written as such is not looked up; it was
 * checked when it was saved and cannot change.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookupOnce(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '')
    const first = addresses[0]
    if (!first || !allPublic(addresses.map(a => a.address))) {
      return callback(Object.assign(new Error(`${hostname} does not resolve to public addresses only`), { code: 'ENOTPUBLIC' }), '')
    }
    if (options.all) callback(null, addresses)
    else callback(null, first.address, first.family)
  })
}
