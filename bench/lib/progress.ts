/**
 * A live progress line. On a TTY: one line rewritten in place (carriage return + clear to end of line),
 * redrawn at most every `ttyIntervalMs`. Elsewhere (CI logs, pipes): a plain line every `intervalMs`,
 * so logs stay readable and small.
 */

export interface ProgressOptions {
  /** where to write (default process.stderr, so stdout stays clean for results) */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  /** override TTY detection */
  tty?: boolean
  /** period of plain lines when not a TTY (default 5000 ms) */
  intervalMs?: number
  /** minimum time between redraws on a TTY (default 100 ms) */
  ttyIntervalMs?: number
  /** clock in ms (default performance.now) */
  now?: () => number
}

export interface Progress {
  /** the current state as one line; written now or later according to the mode */
  update(line: string): void
  /** writes the last state (or `finalLine`) and ends the line */
  done(finalLine?: string): void
  readonly tty: boolean
}

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr
  const tty = options.tty ?? Boolean(stream.isTTY)
  const interval = tty ? (options.ttyIntervalMs ?? 100) : (options.intervalMs ?? 5000)
  const now = options.now ?? (() => performance.now())
  let lastWrite = Number.NEGATIVE_INFINITY
  let pending: string | null = null
  let finished = false
  let wroteTty = false

  const write = (line: string): void => {
    if (tty) {
      const width = stream.columns && stream.columns > 10 ? stream.columns - 1 : Infinity
      const shown = line.length > width ? line.slice(0, width) : line
      // \r back to column 0, \x1b[K erases what a longer previous line left (ECMA-48 EL)
      stream.write(`\r${shown}\x1b[K`)
      wroteTty = true
    } else {
      stream.write(`${line}\n`)
    }
    lastWrite = now()
    pending = null
  }

  return {
    tty,
    update(line: string): void {
      if (finished) return
      if (now() - lastWrite >= interval) write(line)
      else pending = line
    },
    done(finalLine?: string): void {
      if (finished) return
      finished = true
      const line = finalLine ?? pending
      if (line !== null && line !== undefined) write(line)
      if (tty && wroteTty) stream.write('\n')
    },
  }
}

/** Compact numbers for the progress line: 12345 → '12.3k'. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '–'
  const a = Math.abs(n)
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`
  return String(Math.round(n))
}
