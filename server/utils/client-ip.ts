import { BlockList, isIP } from 'node:net'
import type { H3Event } from 'h3'
import { getRequestHeader } from 'h3'
import { useConfig } from './config'

let trusted: BlockList | undefined

function trustedProxies(): BlockList {
  if (trusted) return trusted
  trusted = new BlockList()
  for (const entry of useConfig().TRUSTED_PROXIES) {
    const [address, prefix] = entry.split('/')
    const family = isIP(address!) === 6 ? 'ipv6' : 'ipv4'
    if (prefix) trusted.addSubnet(address!, Number(prefix), family)
    else trusted.addAddress(address!, family)
  }
  return trusted
}

function isTrusted(address: string): boolean {
  const family = isIP(address)
  if (!family) return false
  return trustedProxies().check(address, family === 6 ? 'ipv6' : 'ipv4')
}

const unmapped = (address: string) => address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address

/**
 * The client's address. X-Forwarded-For is believed only when the connection comes from a
 * TRUSTED_PROXIES address, and then only up to the first hop that is not a trusted proxy.
 */
export function clientIp(event: H3Event): string {
  let address = unmapped(event.node.req.socket.remoteAddress ?? '')
  if (!isTrusted(address)) return address
  const forwarded = (getRequestHeader(event, 'x-forwarded-for') ?? '').split(',').map(a => unmapped(a.trim())).filter(Boolean)
  while (forwarded.length && isTrusted(address)) address = forwarded.pop()!
  return address
}

/** Whether the request reached us over HTTPS, directly or as told by a trusted proxy. */
export function servedOverHttps(event: H3Event): boolean {
  if ((event.node.req.socket as { encrypted?: boolean }).encrypted) return true
  if (!isTrusted(unmapped(event.node.req.socket.remoteAddress ?? ''))) return false
  return getRequestHeader(event, 'x-forwarded-proto')?.split(',')[0]?.trim() === 'https'
}
