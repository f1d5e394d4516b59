import type Redis from 'ioredis'
import { useConfig } from '#server/utils/config'
import { useLogger } from '#server/utils/logger'
import { useRedis } from '#server/utils/redis'
import { forgetTokenPrincipalsOf } from './bearer'
import { forgetSessionsOf } from './session-memo'

/**
 * Principals derived from bearer tokens, and the users of local and OIDC sessions, are
 * remembered for a short while (the hot path of every request). When a user is revoked,
 * deactivated, changed or signs out, every replica forgets theirs at once: here directly,
 * elsewhere through Redis pub/sub.
 */
const channel = () => `${useConfig().REDIS_KEY_PREFIX}:auth:user-changed`
let subscriber: Redis | undefined

export function listenForUserChanges(): void {
  const redis = useRedis()
  if (!redis || subscriber) return
  subscriber = redis.duplicate()
  subscriber.on('error', (error: Error) => useLogger().warn({ err: error }, `redis (user changes): ${error.message}`))
  subscriber.on('message', (_channel: string, userId: string) => forgetPrincipalsOf(userId))
  void subscriber.subscribe(channel()).catch(() => {})
}

function forgetPrincipalsOf(userId: string): void {
  forgetTokenPrincipalsOf(userId)
  forgetSessionsOf(userId)
}

export async function announceUserChange(userId: string): Promise<void> {
  forgetPrincipalsOf(userId)
  await useRedis()?.publish(channel(), userId).catch((error: Error) => useLogger().warn({ err: error }, 'could not tell the other replicas about a user change'))
}

export async function stopListeningForUserChanges(): Promise<void> {
  const current = subscriber
  subscriber = undefined
  await current?.quit().catch(() => current.disconnect())
}
