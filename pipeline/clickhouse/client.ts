/** ClickHouse over HTTP (clickhouse-js), and the one place that classifies its errors. */
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { RetriableError, PoisonError, SidepError } from '../errors.ts'

export type { ClickHouseClient }

export function createClickHouse(url: string, database?: string): ClickHouseClient {
  return createClient({ url, database, request_timeout: 60_000, max_open_connections: 4 })
}

/**
 * ClickHouse error codes (ErrorCodes.cpp): 6 CANNOT_PARSE_TEXT, 26/27 CANNOT_PARSE_QUOTED_STRING /
 * CANNOT_PARSE_INPUT_ASSERTION_FAILED, 53 TYPE_MISMATCH, 70 CANNOT_CONVERT_TYPE, 72 CANNOT_PARSE_NUMBER,
 * 117 INCORRECT_DATA, 38 CANNOT_PARSE_DATE, 41 CANNOT_PARSE_DATETIME are the data's fault; anything else
 * (network, timeouts, TOO_MANY_PARTS 252, memory limits) is retried.
 */
const BAD_DATA_CODES = new Set(['6', '26', '27', '38', '41', '53', '70', '72', '117'])

/**
 * The server's error code: clickhouse-js sets `code` when the server sends it in the X-ClickHouse-Exception-Code
 * header, which ClickHouse 18.16 (the Debian server) does not; its code is then only in the exception text,
 * "Code: 27, e.displayText() = DB::Exception: ...". Read here, at the boundary, and nowhere else.
 */
function errorCodeOf(err: unknown): string {
  const code = (err as { code?: unknown })?.code
  if (code !== undefined && code !== null && code !== '') return String(code)
  const m = /^Code: (\d+)[,.]/.exec(String((err as Error)?.message ?? '').trimStart())
  return m ? m[1] : ''
}

export function classifyClickHouseError(err: unknown): SidepError {
  if (err instanceof SidepError) return err
  const code = errorCodeOf(err)
  if (BAD_DATA_CODES.has(code)) return new PoisonError('CH_REJECTED_DATA', `ClickHouse rejected the data (code ${code})`, err)
  return new RetriableError('CH_UNAVAILABLE', `ClickHouse: ${code || 'connection'} ${(err as Error)?.message ?? ''}`.trim(), err)
}
