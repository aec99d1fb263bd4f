/**
 * The submissions the driver sends, in order, generated ahead of their send time.
 *
 * Why: the driver shares the machine's cores with the platform it measures. Generating items (objects,
 * random draws, ISO dates) and serialising them costs tens of µs per result and garbage for the GC;
 * done during the load, that CPU is taken from the platform. Done before the clock starts, the load
 * phase only hands ready bytes to the transport.
 *
 * Bounded memory: submissions are generated ahead until their bodies reach `budgetBytes` (or `max`
 * submissions, the whole schedule); past that, next() generates on the spot, as before. What is kept per
 * pre-generated submission is its JSON body (a Buffer, outside the JS heap, sent as is: no string to
 * re-encode on the way out) and its Booking (bench/lib/ledger.ts: a few shared strings per item).
 *
 * Spilled to a file (`spillPath`): bodies generated ahead go to an unlinked temporary file instead of the
 * heap, and next() reads each one back (one pread of the submission's bytes, from the page cache: a
 * memcpy, µs per submission). Without it a 5-minute run at 5,000/s (~700 MB of bodies) had most of its
 * submissions generated during the load (~50 µs of CPU per item, taken from the platform) and kept 256 MB
 * of bodies in the driver's RSS; with it the whole schedule is generated before the clock starts and the
 * RSS holds only the bookings. The page cache is the kernel's and reclaimable.
 *
 * Order is the generation order whatever the pacer does (a shed schedule slot delays the next
 * submission, it never skips one), so a correction is never sent without the result it corrects; the
 * ledger books a submission when it is released, so unsent ones leave no expectation behind.
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs'
import { bookingOf, type Booking } from './ledger.ts'
import { BenchError } from './errors.ts'
import { Worker } from 'node:worker_threads'
import type { PregenerateMessage, PregenerateRequest } from './pregenerate-worker.ts'
import { SyntheticLabs, type SyntheticLabsOptions } from './synthetic-labs.ts'

export interface PlannedSubmission {
  labIndex: number
  body: Buffer
  items: number
  booking: Booking
}

/** a submission generated ahead whose body waits in the spill file */
export interface SpilledSubmission {
  labIndex: number
  offset: number
  length: number
  items: number
  booking: Booking
}

const TSX_API = import.meta.resolve('tsx/esm/api')
const WORKER_MODULE = new URL('./pregenerate-worker.ts', import.meta.url).href

export class SubmissionSource {
  private readonly ready: (PlannedSubmission | SpilledSubmission | undefined)[] = []
  /** the spill file (unlinked as soon as opened: nothing is left behind, whatever way the run ends) */
  private fd: number | null = null
  private spillBytes = 0
  /** generated ahead by a worker thread (pregenerate): nothing can be generated here past the schedule */
  private scheduleOnly = false
  private head = 0
  private generated = 0
  /** bytes of the bodies generated ahead (all of them, sent or not) */
  aheadBytes = 0
  /** submissions generated at send time because the budget was spent */
  lateGenerated = 0

  constructor(
    private readonly gen: SyntheticLabs,
    private readonly batch: number,
    spillPath?: string,
  ) {
    if (spillPath) {
      this.fd = openSync(spillPath, 'w+', 0o600)
      unlinkSync(spillPath)
    }
  }

  private make(): PlannedSubmission {
    const labIndex = this.generated++ % this.gen.labIds.length
    const items = this.gen.batch(labIndex, this.batch)
    const labId = this.gen.labIds[labIndex]
    // one string for the array: JSON.stringify of each item and a join would make n + 1
    const body = Buffer.from(JSON.stringify(items.map((g) => g.item)))
    return { labIndex, body, items: items.length, booking: bookingOf(labId, items) }
  }

  /** Generates submissions ahead until `max` of them are ready or their bodies reach `budgetBytes`. */
  prefill(max: number, budgetBytes: number): void {
    while (this.ready.length < max && this.aheadBytes < budgetBytes) {
      const p = this.make()
      this.aheadBytes += p.body.length
      if (this.fd === null) {
        this.ready.push(p)
        continue
      }
      const offset = this.spillBytes
      for (let at = 0; at < p.body.length; ) at += writeSync(this.fd, p.body, at, p.body.length - at, offset + at)
      this.spillBytes += p.body.length
      this.ready.push({ labIndex: p.labIndex, offset, length: p.body.length, items: p.items, booking: p.booking })
    }
  }

  /**
   * The whole schedule generated ahead by a worker thread (bench/lib/pregenerate-worker.ts) into a spill
   * file, with the generator built from `genOptions` there (the same options give the same items). The
   * driver's heap then holds only the compact bookings: the generation's garbage and the generator's
   * history die with the thread. All `max` submissions or an error (past them next() throws): a
   * generator resumed here would repeat the thread's keys.
   */
  static async pregenerate(genOptions: SyntheticLabsOptions, batch: number, max: number, budgetBytes: number, spillPath: string): Promise<SubmissionSource> {
    // never used here to generate: labIds only (cheap: no items are made)
    const source = new SubmissionSource(new SyntheticLabs(genOptions), batch, spillPath)
    source.scheduleOnly = true
    const req: PregenerateRequest = { gen: genOptions, batch, max, budgetBytes, fd: source.fd! }
    // tsx registered inside the thread, then the module imported: a thread given `--import tsx` (or a
    // .ts entry point) still fails on Node 20 with ERR_UNKNOWN_FILE_EXTENSION, and no process-wide flag
    // of ours (--cpu-prof, --expose-gc) may reach a worker (ERR_WORKER_INVALID_EXEC_ARGV)
    const entry = `import(${JSON.stringify(TSX_API)}).then((t) => { t.register(); return import(${JSON.stringify(WORKER_MODULE)}) })`
    const worker = new Worker(entry, { eval: true, workerData: req, execArgv: [] })
    let bytes = -1
    worker.on('message', (m: PregenerateMessage) => {
      if ('chunk' in m) for (const p of m.chunk) source.ready.push(p)
      else bytes = m.bytes
    })
    const code = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject)
      worker.once('exit', resolve)
    })
    if (code !== 0 || bytes < 0) throw new BenchError('BENCH_PREGENERATE_FAILED', `the generation thread exited with code ${code}`)
    source.spillBytes = bytes
    source.aheadBytes = bytes
    if (source.ready.length < max) {
      source.close()
      throw new BenchError('BENCH_PREGENERATE_BUDGET', `${source.ready.length} of ${max} submissions fit in ${Math.round(budgetBytes / 1048576)} MB: raise --pregenerate-mb`)
    }
    return source
  }

  get readyCount(): number {
    return this.ready.length - this.head
  }

  /** The next submission in order: a ready one (released from memory as it goes), else a fresh one. */
  next(): PlannedSubmission {
    if (this.head < this.ready.length) {
      const p = this.ready[this.head]!
      this.ready[this.head++] = undefined
      if ('body' in p) return p
      const body = Buffer.allocUnsafe(p.length)
      for (let at = 0; at < p.length; ) {
        const n = readSync(this.fd!, body, at, p.length - at, p.offset + at)
        if (n === 0) throw new BenchError('BENCH_SPILL_SHORT', `spill file ended at ${p.offset + at}, expected ${p.offset + p.length}`)
        at += n
      }
      return { labIndex: p.labIndex, body, items: p.items, booking: p.booking }
    }
    if (this.scheduleOnly) throw new BenchError('BENCH_SCHEDULE_EXHAUSTED', `all ${this.ready.length} submissions generated ahead were sent`)
    this.lateGenerated++
    return this.make()
  }

  /** Closes the spill file (its space is freed: it was unlinked when opened). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}
