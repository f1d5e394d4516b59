import { randomBytes } from 'node:crypto'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningApp } from '../fixtures/app'
import { startApp } from '../fixtures/app'
import { Client, signedInAdmin, userClient } from '../fixtures/client'
import { EventStream } from '../fixtures/sse'

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `test-live-${randomBytes(6).toString('hex')}`

// Two replicas of one installation: shared database and Redis, clients on either.
let first: RunningApp
let second: RunningApp
let admin: Client
beforeAll(async () => {
  first = await startApp({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix })
  second = await startApp({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, ...first.databaseEnv })
  admin = await signedInAdmin(first.url)
})
afterAll(async () => {
  await second?.kill()
  await first?.stop()
  const redis = new Redis(redisUrl)
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length) await redis.del(...keys)
  await redis.quit()
})

/** The same session, talking to the other replica. */
function on(app: RunningApp, client: Client): Client {
  const other = new Client(app.url)
  other.cookie = client.cookie
  return other
}

describe('live events across replicas', () => {
  it('reach a subscriber of the other replica, filtered there by the same rule, and resume there', async () => {
    const requester = await userClient(admin, 'requester', { orgs: ['acme'] })
    const agent = await userClient(admin, 'agent', { orgs: ['acme'], name: 'Remote Agent' })
    const ticket = (await requester.post('/api/tickets', { title: 'Across replicas', body: 'x' })).body

    const agentOnSecond = await EventStream.open(on(second, agent), `/api/live?ticket=${ticket.id}`)
    const requesterOnSecond = await EventStream.open(on(second, requester), `/api/live?ticket=${ticket.id}`)
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'internal detail', internal: true })
    await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'public answer' })
    expect((await agentOnSecond.next(e => e.event === 'comment' && !e.data.comment.internal)).data.comment.body).toBe('public answer')
    await requesterOnSecond.next(e => e.event === 'comment')
    expect(requesterOnSecond.of('comment').map(e => e.data.comment.body)).toEqual(['public answer'])

    // Presence written on one replica is seen by a page opened on the other.
    expect((await agent.post(`/api/tickets/${ticket.id}/presence`, { state: 'viewing' })).status).toBe(204)
    await agentOnSecond.next(e => e.event === 'presence' && e.data.viewers.some((v: { name: string }) => v.name === 'Remote Agent'))
    const latecomer = await EventStream.open(on(second, admin), `/api/live?ticket=${ticket.id}`)
    expect((await latecomer.next(e => e.event === 'presence')).data.viewers.map((v: { name: string }) => v.name)).toEqual(['Remote Agent'])

    // A reconnect to the other replica picks up where the stream stopped.
    const last = agentOnSecond.events.filter(e => e.id).at(-1)!.id!
    await agentOnSecond.close()
    await on(second, agent).patch(`/api/tickets/${ticket.id}`, { priority: 'urgent' })
    const resumed = await EventStream.open(agent, `/api/live?ticket=${ticket.id}`, { 'last-event-id': last })
    expect((await resumed.next(e => e.event === 'ticket')).data.fields).toEqual(['priority'])
    expect(resumed.events.filter(e => e.event !== 'presence').map(e => e.event)).toEqual(['ticket'])
    await Promise.all([resumed.close(), requesterOnSecond.close(), latecomer.close()])
  })
})
