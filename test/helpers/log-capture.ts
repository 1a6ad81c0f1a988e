/** The real redacting logger writing into memory, for tests that read what it logged. */
import { Writable } from 'node:stream'
import { createLogger } from '../../src/security/redacting-logger.js'

/** A captured logger: the logger, its raw text and its parsed lines. */
export interface CapturedLogger {
  logger: ReturnType<typeof createLogger>['logger']
  text: () => string
  lines: () => Record<string, unknown>[]
}

/** A logger at `level` (id tags keyed with 'k') whose lines are kept in memory. */
export function captureLogger(level = 'info'): CapturedLogger {
  const chunks: string[] = []
  const destination = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c.toString())
      cb()
    },
  })
  const { logger } = createLogger({ level, key: 'k', destination })
  const text = () => chunks.join('')
  return {
    logger,
    text,
    lines: () =>
      text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}
