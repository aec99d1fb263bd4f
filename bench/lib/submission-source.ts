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
import type { SyntheticLabs } from './synthetic-labs.ts'

export interface PlannedSubmission {
  labIndex: number
  body: Buffer
  items: number
  booking: Booking
}

/** a submission generated ahead whose body waits in the spill file */
interface Spilled {
  labIndex: number
  offset: number
  length: number
  items: number
  booking: Booking
}

export class SubmissionSource {
  private readonly ready: (PlannedSubmission | Spilled | undefined)[] = []
  /** the spill file (unlinked as soon as opened: nothing is left behind, whatever way the run ends) */
  private fd: number | null = null
  private spillBytes = 0
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
    this.lateGenerated++
    return this.make()
  }

  /** Closes the spill file (its space is freed: it was unlinked when opened). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}
