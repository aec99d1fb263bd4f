/**
 * JSON-line logs (pino). Log lines carry ids, codes and counts, never personal data: callers pass
 * submission ids, lab ids and error codes, not items.
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger(level: string, name = 'sidep'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime })
}
