/**
 * Open-loop rate control. The schedule is fixed by the clock, not by responses: by time t the bench
 * should have released `rate × t` items, whatever the platform's latency (closed-loop senders that wait
 * for each answer under-report latency: "coordinated omission", Gil Tene). Items are released in whole
 * batches of `batch` (one submission each).
 *
 * When the sender falls behind (a GC pause, a slow event loop), the pacer catches up, but never releases
 * more than `maxBurstBatches` batches in one call, so a stall does not turn into a thundering burst.
 * If the debt grows beyond `maxLagMs` of schedule, the excess is shed (counted, never sent): the run then
 * reports an achieved rate below the target instead of hiding the shortfall in an ever-growing backlog.
 */

export interface PacerOptions {
  /** target items per second (> 0) */
  rate: number
  /** items per release (>= 1) */
  batch: number
  /** most batches released by one take() when catching up (default 4) */
  maxBurstBatches?: number
  /** schedule debt beyond this many ms of items is shed (default 1000) */
  maxLagMs?: number
  /** monotonic clock in ms (default performance.now) */
  now?: () => number
}

export interface PacerStats {
  targetRate: number
  /** items released per second since start */
  achievedRate: number
  /** items released since start */
  released: number
  /** items due but not yet released (debt), right now */
  behind: number
  /** items dropped from the schedule because the debt exceeded maxLagMs */
  shed: number
  elapsedMs: number
}

export class Pacer {
  readonly rate: number
  readonly batch: number
  readonly maxBurstBatches: number
  readonly maxLagMs: number
  private readonly now: () => number
  private startMs = Number.NaN
  private released = 0
  private shed = 0

  constructor(options: PacerOptions) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new RangeError(`rate must be a positive number, got ${options.rate}`)
    if (!Number.isInteger(options.batch) || options.batch < 1) throw new RangeError(`batch must be a positive integer, got ${options.batch}`)
    this.rate = options.rate
    this.batch = options.batch
    this.maxBurstBatches = options.maxBurstBatches ?? 4
    if (!Number.isInteger(this.maxBurstBatches) || this.maxBurstBatches < 1) throw new RangeError('maxBurstBatches must be a positive integer')
    this.maxLagMs = options.maxLagMs ?? 1000
    if (!(this.maxLagMs >= 0)) throw new RangeError('maxLagMs must be >= 0')
    this.now = options.now ?? (() => performance.now())
  }

  /** Starts the schedule (first take() starts it implicitly). */
  start(at: number = this.now()): void {
    this.startMs = at
    this.released = 0
    this.shed = 0
  }

  /** Items due by `at` according to the schedule (shed items count as done). */
  private dueBy(at: number): number {
    return Math.floor(((at - this.startMs) * this.rate) / 1000)
  }

  /**
   * How many items to send now: a multiple of `batch`, at most maxBurstBatches × batch, 0 when the next
   * batch is not due yet. The caller sends exactly that many and calls again after delayMs().
   */
  take(at: number = this.now()): number {
    if (Number.isNaN(this.startMs)) this.start(at)
    const debt = this.dueBy(at) - this.released - this.shed
    const maxDebt = Math.max(this.batch * this.maxBurstBatches, Math.floor((this.maxLagMs * this.rate) / 1000))
    if (debt > maxDebt) this.shed += debt - maxDebt
    const batches = Math.min(Math.floor(Math.min(debt, maxDebt) / this.batch), this.maxBurstBatches)
    if (batches <= 0) return 0
    const n = batches * this.batch
    this.released += n
    return n
  }

  /** Milliseconds until the next batch is due (0 if already due). */
  delayMs(at: number = this.now()): number {
    if (Number.isNaN(this.startMs)) return 0
    const nextDueAt = this.startMs + ((this.released + this.shed + this.batch) * 1000) / this.rate
    return Math.max(0, nextDueAt - at)
  }

  stats(at: number = this.now()): PacerStats {
    const elapsedMs = Number.isNaN(this.startMs) ? 0 : at - this.startMs
    return {
      targetRate: this.rate,
      achievedRate: elapsedMs > 0 ? (this.released * 1000) / elapsedMs : 0,
      released: this.released,
      behind: Number.isNaN(this.startMs) ? 0 : Math.max(0, this.dueBy(at) - this.released - this.shed),
      shed: this.shed,
      elapsedMs,
    }
  }
}

export interface PacedRunOptions {
  pacer: Pacer
  durationMs: number
  /** called with the number of items to send now; fire and forget (open loop), never awaited */
  send: (items: number) => void
  signal?: AbortSignal
}

/**
 * Drives `send` on the pacer's schedule for `durationMs` with timers, then resolves with the final stats.
 * Responses are the caller's business: send() must not block (start the request, do not await it).
 */
export function runPaced({ pacer, durationMs, send, signal }: PacedRunOptions): Promise<PacerStats> {
  return new Promise((resolve) => {
    const t0 = performance.now()
    pacer.start(t0)
    let timer: NodeJS.Timeout | undefined
    const finish = (): void => {
      if (timer) clearTimeout(timer)
      signal?.removeEventListener('abort', finish)
      resolve(pacer.stats())
    }
    signal?.addEventListener('abort', finish, { once: true })
    const tick = (): void => {
      const now = performance.now()
      if (now - t0 >= durationMs || signal?.aborted) return finish()
      const n = pacer.take(now)
      if (n > 0) send(n)
      // wake when the next batch is due, at least 1 ms later (setTimeout's floor) and not past the end
      timer = setTimeout(tick, Math.max(1, Math.min(pacer.delayMs(), durationMs - (now - t0))))
    }
    tick()
  })
}
