/**
 * The INGEST message the gateway publishes for an HTTP submission (msgpack, header `Sidep-Envelope: 1`).
 * A submission of up to 5,000 items is split into chunks by index range, because NATS refuses messages over
 * max_payload (1 MB by default). Labs publishing on NATS send plain JSON instead (one item or an array).
 * The processor validates the items again: an envelope on a lab's subject may have been forged.
 */
import { Packr } from 'msgpackr'
import type { ItemError } from './model/canonical.ts'

export const ENVELOPE_HEADER = 'Sidep-Envelope'
export const ENVELOPE_VERSION = '1'

export interface IngestEnvelope {
  v: 1
  submissionId: string
  format: string
  /** the door it came through: 'http' or 'mllp' (absent in older envelopes: 'http') */
  channel?: 'http' | 'mllp'
  receivedAt: number
  /** items in the whole submission (all chunks) */
  itemCount: number
  items: Array<{ index: number; item: unknown }>
  rejected: Array<{ index: number; errors: ItemError[] }>
}

const packr = new Packr({ useRecords: false, moreTypes: false })

export function encodeEnvelope(envelope: IngestEnvelope): Uint8Array {
  return packr.pack(envelope)
}

export function decodeEnvelope(data: Uint8Array): IngestEnvelope {
  const e = packr.unpack(data) as IngestEnvelope
  if (!e || e.v !== 1 || typeof e.submissionId !== 'string' || !Array.isArray(e.items) || !Array.isArray(e.rejected)) {
    throw new Error('not a sidep ingest envelope')
  }
  return e
}
