import pino from 'pino'
import pretty from 'pino-pretty'
import { useConfig } from './config'

// Credentials never reach the log, wherever they sit in a logged object (up to three levels down).
const secretKeys = [
  'password', 'authorization', 'cookie', 'set-cookie', 'token', 'secret',
  'accessToken', 'refreshToken', 'idToken', 'access_token', 'refresh_token', 'id_token', 'client_secret',
]
const redact = {
  paths: secretKeys.flatMap(k => [`["${k}"]`, `*["${k}"]`, `*.*["${k}"]`, `*.*.*["${k}"]`]),
  censor: '[redacted]',
}

function createLogger() {
  const config = useConfig()
  const options = { level: config.LOG_LEVEL, redact, base: undefined }
  // JSON lines in production; readable lines while developing.
  return (config.LOG_FORMAT ?? (config.production ? 'json' : 'pretty')) === 'json'
    ? pino(options)
    : pino(options, pretty({ colorize: !!process.stdout.isTTY, ignore: 'pid,hostname', sync: true }))
}

let logger: pino.Logger | undefined

export function useLogger(): pino.Logger {
  logger ??= createLogger()
  return logger
}
