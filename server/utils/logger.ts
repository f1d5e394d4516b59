import pino from 'pino'
import pretty from 'pino-pretty'
import { useConfig } from './config'

const redact = {
  paths: ['password', '*.password', 'authorization', '*.authorization', 'cookie', '*.cookie', 'token', '*.token', 'secret', '*.secret'],
  censor: '[redacted]',
}

function createLogger() {
  const config = useConfig()
  const options = { level: config.LOG_LEVEL, redact, base: undefined }
  // JSON lines in production; readable lines while developing.
  return config.production
    ? pino(options)
    : pino(options, pretty({ colorize: !!process.stdout.isTTY, ignore: 'pid,hostname', sync: true }))
}

let logger: pino.Logger | undefined

export function useLogger(): pino.Logger {
  logger ??= createLogger()
  return logger
}
