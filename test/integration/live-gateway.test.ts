import { request } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import { signedInAdmin, userClient } from '../fixtures/client'
import type { RunningGateway } from '../fixtures/nginx'
import { startGateway } from '../fixtures/nginx'

let app: RunningApp
let gateway: RunningGateway
beforeAll(async () => {
  app = await startApp({ TRUSTED_PROXIES: '127.0.0.1' })
  gateway = await startGateway(new URL(app.url).host)
})
afterAll(async () => {
  await gateway?.stop()
  await app?.stop()
})

describe('live updates through the shipped nginx configuration', () => {
  it('arrive one by one while the stream stays open (nothing buffered), and need a session', async () => {
    const admin = await signedInAdmin(app.url)
    const agent = await userClient(admin, 'agent', { orgs: ['acme'] })
    const ticket = (await (await userClient(admin, 'requester', { orgs: ['acme'] })).post('/api/tickets', { title: 'Through nginx', body: 'x' })).body

    const open = (cookie?: string) => new Promise<IncomingMessage>((resolve, reject) => {
      request(`${gateway.httpsUrl}/api/live?ticket=${ticket.id}`, { ca: gateway.certificate, agent: false, headers: { accept: 'text/event-stream', ...(cookie ? { cookie } : {}) } }, resolve)
        .on('error', reject).end()
    })
    const refused = await open()
    expect(refused.statusCode).toBe(401)
    refused.resume()

    const stream = await open(agent.cookie)
    expect(stream.statusCode).toBe(200)
    expect(stream.headers['content-type']).toContain('text/event-stream')
    let received = ''
    stream.on('data', (c: Buffer) => (received += c.toString()))
    const arrived = async (text: string) => {
      while (!received.includes(text)) await new Promise(r => setTimeout(r, 20))
    }
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'first through the proxy' })
    await arrived('first through the proxy')
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'second through the proxy' })
    await arrived('second through the proxy')
    expect(stream.complete).toBe(false)
    stream.destroy()
  })
})
