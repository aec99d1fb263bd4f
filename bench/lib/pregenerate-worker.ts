/**
 * Worker thread of SubmissionSource.pregenerate (bench/lib/submission-source.ts): generates the whole
 * schedule, writes each body to the spill file (the parent's descriptor: descriptors are per process) and
 * posts the bookings back in chunks.
 *
 * Why a thread: generating 1.5 M items (a 5-minute run at 5,000/s) makes hundreds of MB of short-lived
 * garbage and keeps the generator's history; in the driver's own heap that grew its RSS by ~350 MB that V8
 * never handed back. The thread's heap goes away with it; the parent keeps only the compact bookings.
 * No top-level await (the house rule for worker modules).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { writeSync } from 'node:fs'
import { SyntheticLabs, type SyntheticLabsOptions } from './synthetic-labs.ts'
import { SubmissionSource, type SpilledSubmission } from './submission-source.ts'

export interface PregenerateRequest {
  gen: SyntheticLabsOptions
  batch: number
  max: number
  budgetBytes: number
  fd: number
}

export type PregenerateMessage = { chunk: SpilledSubmission[] } | { done: true; bytes: number }

const CHUNK = 32

function run(req: PregenerateRequest): void {
  const source = new SubmissionSource(new SyntheticLabs(req.gen), req.batch)
  let bytes = 0
  let chunk: SpilledSubmission[] = []
  for (let k = 0; k < req.max && bytes < req.budgetBytes; k++) {
    const p = source.next()
    for (let at = 0; at < p.body.length; ) at += writeSync(req.fd, p.body, at, p.body.length - at, bytes + at)
    chunk.push({ labIndex: p.labIndex, offset: bytes, length: p.body.length, items: p.items, booking: p.booking })
    bytes += p.body.length
    if (chunk.length === CHUNK) {
      parentPort!.postMessage({ chunk } satisfies PregenerateMessage)
      chunk = []
    }
  }
  if (chunk.length > 0) parentPort!.postMessage({ chunk } satisfies PregenerateMessage)
  parentPort!.postMessage({ done: true, bytes } satisfies PregenerateMessage)
}

run(workerData as PregenerateRequest)
