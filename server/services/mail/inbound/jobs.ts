import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm'
import { createError } from 'h3'
import { inboundMessages } from '#server/db/schema'
import { defineJob } from '#server/services/jobs'
import { asPrincipal, asSystem } from '#server/services/visibility'
import { useLogger } from '#server/utils/logger'
import type { Principal } from '#server/utils/principal'
import { processInboundMessage } from './process'
import type { InboundOutcome } from '#shared/types/inbound-mail'
import type { InboundSource } from './store'
import { inboundOutcome, storeInboundMessage } from './store'

/** Processes one stored message; retried with backoff, the last failure is recorded on the message. */
export const processInbound = defineJob<{ id: string }>('mail.inbound', ({ id }, { lastAttempt }) => processInboundMessage(id, { lastAttempt }), {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
})

/** Messages still queued a while after they arrived: their job was lost (a crash, Redis away). */
export async function sweepQueuedInbound(): Promise<number> {
  const rows = await asSystem(tx => tx.select({ id: inboundMessages.id }).from(inboundMessages)
    .where(and(
      eq(inboundMessages.state, 'queued'),
      lt(inboundMessages.receivedAt, sql`now() - interval '30 seconds'`),
      or(isNull(inboundMessages.leaseUntil), lt(inboundMessages.leaseUntil, sql`now()`)),
    ))
    .orderBy(asc(inboundMessages.receivedAt)).limit(500))
  for (const { id } of rows) await processInbound.enqueue({ id })
  return rows.length
}

export const inboundSweep = defineJob('mail.inbound.sweep', async () => {
  const found = await sweepQueuedInbound()
  if (found) useLogger().info({ found }, 'queued inbound mail picked up again')
}, { attempts: 1, every: 60_000 })

/**
 * A message received by the relay endpoint or the mailbox reader: stored raw first (the caller
 * may acknowledge it from then on), then handed to a job. If the queue is away the sweep finds it.
 */
export async function receiveInboundMessage(raw: Buffer, source: InboundSource): Promise<string> {
  const id = await storeInboundMessage(raw, source)
  await processInbound.enqueue({ id }).catch((error: Error) => useLogger().warn({ err: error, inboundId: id }, 'inbound mail stored; the queue is unavailable, the sweep will process it'))
  return id
}

/** An admin's second try of a message whose processing failed (e.g. storage was down). */
export async function retryInbound(principal: Principal, id: string): Promise<InboundOutcome> {
  const current = await inboundOutcome(principal, id)
  if (current.state !== 'failed') throw createError({ statusCode: 409, statusMessage: 'Conflict', message: 'Only a message whose processing failed can be retried.' })
  await asPrincipal(principal, tx => tx.update(inboundMessages).set({ state: 'queued', reason: null, processedAt: null })
    .where(and(eq(inboundMessages.id, id), eq(inboundMessages.state, 'failed'))))
  await processInbound.enqueue({ id })
  return inboundOutcome(principal, id)
}
