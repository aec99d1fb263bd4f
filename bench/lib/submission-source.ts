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
 * Order is the generation order whatever the pacer does (a shed schedule slot delays the next
 * submission, it never skips one), so a correction is never sent without the result it corrects; the
 * ledger books a submission when it is released, so unsent ones leave no expectation behind.
 */
import { bookingOf, type Booking } from './ledger.ts'
import type { SyntheticLabs } from './synthetic-labs.ts'

export interface PlannedSubmission {
  labIndex: number
  body: Buffer
  items: number
  booking: Booking
}

export class SubmissionSource {
  private readonly ready: (PlannedSubmission | undefined)[] = []
  private head = 0
  private generated = 0
  /** bytes of the bodies generated ahead (all of them, sent or not) */
  aheadBytes = 0
  /** submissions generated at send time because the budget was spent */
  lateGenerated = 0

  constructor(
    private readonly gen: SyntheticLabs,
    private readonly batch: number,
  ) {}

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
      this.ready.push(p)
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
      return p
    }
    this.lateGenerated++
    return this.make()
  }
}
