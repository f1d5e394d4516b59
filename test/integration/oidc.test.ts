import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { freePort, startApp } from '../fixtures/app'
import { Client } from '../fixtures/client'
import type { TestIdp } from '../fixtures/idp'
import { oidcAppEnv, startIdp } from '../fixtures/idp'

let idp: TestIdp
let app: RunningApp
let env: Record<string, string>
const ports: number[] = []

beforeAll(async () => {
  ports.push(await freePort(), await freePort())
  idp = await startIdp({ appUrls: ports.map(p => `http://127.0.0.1:${p}`) })
  env = oidcAppEnv(idp, `hd-test-${randomBytes(4).toString('hex')}`)
  app = await startApp({ ...env, PORT: String(ports[0]) })
})
afterAll(async () => {
  await app?.stop()
  await idp?.stop()
})

describe('smoke', () => {
  it('signs in', async () => {
    idp.accounts.set('alice', { email: 'alice@example.test', name: 'Alice', groups: ['helpdesk-agents', 'helpdesk-org-acme'] })
    const client = new Client(app.url)
    const landed = await client.signInWithIdp('alice', '/tickets/new')
    console.log(landed, client.cookie)
    const me = await client.get('/api/me')
    console.log(me)
    console.log(app.output())
  })
})
