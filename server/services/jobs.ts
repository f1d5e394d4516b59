import { Queue, UnrecoverableError, Worker } from 'bullmq'
import type { Job } from 'bullmq'
import Redis from 'ioredis'
import { useConfig } from '../utils/config'
import type { Config } from '../utils/config'
import { useLogger } from '../utils/logger'

/**
 * Background jobs (docs/email.md, "Jobs"): one small API over two runners with the same
 * semantics. With REDIS_URL the jobs go through bullmq and whichever process consumes (the
 * worker, `npm run worker`) runs them; without Redis the process that enqueues runs them itself
 * (the zero-install start). Handlers must be idempotent: a job may run again after a crash.
 */

export interface JobOptions {
  /** Runs in all, including the first (default 3). */
  attempts?: number
  /** Delay before retry n: `delay * 2^(n-1)` ms for exponential, `delay` for fixed (default exponential, 1000 ms). */
  backoff?: { type: 'exponential' | 'fixed', delay: number }
  /** Periodic work: the runner starts it every `every` ms in one consuming process (with data `{}`); read when the runner starts. */
  every?: number | (() => number)
}

export interface EnqueueOptions {
  /** Milliseconds before the first run. */
  delay?: number
  /** A job with the same id that is still waiting is not added twice. */
  jobId?: string
}

export interface JobContext {
  /** 1 on the first run. */
  attempt: number
  /** True when no retry follows a failure of this run. */
  lastAttempt: boolean
}

type Handler<T> = (data: T, context: JobContext) => Promise<void>

interface Definition {
  name: string
  handler: Handler<unknown>
  attempts: number
  backoff: { type: 'exponential' | 'fixed', delay: number }
  every?: () => number
}

export interface JobHandle<T> {
  name: string
  enqueue: (data: T, options?: EnqueueOptions) => Promise<void>
}

/** Thrown by a handler to fail at once, without the remaining retries. */
export { UnrecoverableError as PermanentJobError }

const definitions = new Map<string, Definition>()

/** Registers a job; call at module level, once per name. */
export function defineJob<T = Record<string, never>>(name: string, handler: Handler<T>, options: JobOptions = {}): JobHandle<T> {
  if (definitions.has(name)) throw new Error(`job ${name} is defined twice`)
  definitions.set(name, {
    name,
    handler: handler as Handler<unknown>,
    attempts: options.attempts ?? 3,
    backoff: options.backoff ?? { type: 'exponential', delay: 1000 },
    every: typeof options.every === 'number' ? () => options.every as number : options.every,
  })
  return { name, enqueue: (data, opts) => enqueueJob(name, data, opts) }
}

export function retryDelay(definition: Pick<Definition, 'backoff'>, failedAttempt: number): number {
  const { type, delay } = definition.backoff
  return type === 'fixed' ? delay : Math.round(delay * 2 ** (failedAttempt - 1))
}

/** Whether this process consumes jobs: the worker always, the app per JOBS_IN_PROCESS (auto: when there is no Redis). */
export function consumesJobs(config: Config, role: 'app' | 'worker'): boolean {
  return role === 'worker' || jobsInProcess(config)
}

export function jobsInProcess(config: Config): boolean {
  return config.JOBS_IN_PROCESS ?? !config.REDIS_URL
}

interface Runner {
  add: (definition: Definition, data: unknown, options: EnqueueOptions) => Promise<void>
  start: () => Promise<void>
  stop: () => Promise<void>
}

let runner: Runner | undefined
let consuming = false

function useRunner(): Runner {
  runner ??= useConfig().REDIS_URL ? redisRunner(useConfig()) : memoryRunner()
  return runner
}

/** Adds a job; it runs in a consuming process (see `consumesJobs`). */
export async function enqueueJob<T>(name: string, data: T, options: EnqueueOptions = {}): Promise<void> {
  const definition = definitions.get(name)
  if (!definition) throw new Error(`unknown job ${name}`)
  await useRunner().add(definition, data, options)
}

/** Starts consuming every defined job (`jobs`: the handles, listed so their modules are loaded), and the periodic ones. */
export async function startJobs(jobs: { name: string }[]): Promise<void> {
  if (consuming) return
  consuming = true
  const missing = jobs.filter(job => !definitions.has(job.name))
  if (missing.length) throw new Error(`jobs not defined: ${missing.map(j => j.name).join(', ')}`)
  await useRunner().start()
  useLogger().info({ jobs: [...definitions.keys()], queue: useConfig().REDIS_URL ? 'redis' : 'in-process' }, 'running background jobs')
}

export async function stopJobs(): Promise<void> {
  const current = runner
  runner = undefined
  consuming = false
  await current?.stop()
}

async function runHandler(definition: Definition, data: unknown, attempt: number, attempts: number) {
  await definition.handler(data, { attempt, lastAttempt: attempt >= attempts })
}

function logFailure(name: string, attempt: number, final: boolean, error: unknown) {
  useLogger()[final ? 'error' : 'warn']({ err: error, job: name, attempt }, final ? `job ${name} failed` : `job ${name} failed, will retry`)
}

/** In one process: timers instead of Redis, the same attempts and backoff. Jobs waiting at exit are lost; handlers' own state (e.g. the outbox) covers that. */
function memoryRunner(): Runner {
  const timers = new Set<NodeJS.Timeout>()
  const waiting = new Set<string>()
  let running = false
  let active = 0
  const backlog: (() => void)[] = []
  const concurrency = 4

  const later = (ms: number, work: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      work()
    }, ms)
    timer.unref()
    timers.add(timer)
  }
  // Enqueued before the runner started (or in a process that does not consume): kept until start.
  const pending: (() => void)[] = []
  const schedule = (work: () => void) => (running ? work() : pending.push(work))

  const run = (definition: Definition, data: unknown, attempt: number, jobId?: string) => {
    if (active >= concurrency) return backlog.push(() => run(definition, data, attempt, jobId))
    active++
    if (jobId && attempt === 1) waiting.delete(jobId)
    runHandler(definition, data, attempt, definition.attempts).then(
      () => {},
      (error) => {
        const final = error instanceof UnrecoverableError || attempt >= definition.attempts
        logFailure(definition.name, attempt, final, error)
        if (!final) later(retryDelay(definition, attempt), () => run(definition, data, attempt + 1))
      },
    ).finally(() => {
      active--
      if (running) backlog.shift()?.()
    })
  }

  return {
    async add(definition, data, options) {
      if (options.jobId) {
        if (waiting.has(options.jobId)) return
        waiting.add(options.jobId)
      }
      schedule(() => later(options.delay ?? 0, () => run(definition, data, 1, options.jobId)))
    },
    async start() {
      running = true
      for (const work of pending.splice(0)) work()
      for (const definition of definitions.values()) {
        if (!definition.every) continue
        const every = definition.every()
        const tick = () => {
          if (!running) return
          run(definition, {}, 1)
          later(every, tick)
        }
        later(every, tick)
      }
    },
    async stop() {
      running = false
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
    },
  }
}

/** bullmq: one queue for every job name, keys under `<REDIS_KEY_PREFIX>:jobs`. */
function redisRunner(config: Config): Runner {
  const prefix = `${config.REDIS_KEY_PREFIX}:jobs`
  const queueName = 'helpdesk'
  // Enqueueing from a request must not hang while Redis is away: fail fast, callers decide.
  const producer = new Redis(config.REDIS_URL!, { maxRetriesPerRequest: 1 })
  producer.on('error', () => { /* reconnects on its own; enqueue reports the failure */ })
  const queue = new Queue(queueName, { connection: producer, prefix })
  let worker: Worker | undefined
  let consumer: Redis | undefined

  return {
    async add(definition, data, options) {
      await queue.add(definition.name, data, {
        attempts: definition.attempts,
        backoff: definition.backoff,
        delay: options.delay,
        jobId: options.jobId,
        // Keep a short history for debugging without growing Redis without bound.
        removeOnComplete: { count: 1000, age: 24 * 3600 },
        removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
      })
    },
    async start() {
      // A blocking consumer must wait for Redis indefinitely rather than fail its commands.
      consumer = new Redis(config.REDIS_URL!, { maxRetriesPerRequest: null })
      consumer.on('error', () => { /* reconnects on its own; /ready reports Redis */ })
      worker = new Worker(queueName, async (job: Job) => {
        const definition = definitions.get(job.name)
        if (!definition) throw new UnrecoverableError(`unknown job ${job.name}`)
        await runHandler(definition, job.data, job.attemptsMade + 1, job.opts.attempts ?? 1)
      }, { connection: consumer, prefix, concurrency: 4 })
      worker.on('failed', (job, error) => {
        if (!job) return
        const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1)
        logFailure(job.name, job.attemptsMade, final, error)
      })
      worker.on('error', error => useLogger().warn({ err: error }, 'job queue connection problem'))
      for (const definition of definitions.values()) {
        if (!definition.every) continue
        // One schedule per job across all workers: upserting is idempotent.
        await queue.upsertJobScheduler(definition.name, { every: definition.every() }, {
          name: definition.name,
          data: {},
          opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
        })
      }
    },
    async stop() {
      await worker?.close()
      await queue.close()
      await Promise.all([producer, consumer].map(c => c?.quit().catch(() => c.disconnect())))
    },
  }
}
