/**
 * The INGEST messages the gateway publishes for a submission (msgpack, header `Sidep-Envelope`). A
 * submission of up to 5,000 items is split into chunks by index range, because NATS refuses messages over
 * max_payload (1 MB by default). Labs publishing on NATS send plain JSON instead (one item or an array).
 *
 * Two versions:
 *  - 2, trusted (what the gateway publishes): the canonical results the gateway's admit task validated,
 *    each msgpack-encoded, concatenated, and the whole message authenticated with a platform key (keyed
 *    BLAKE2b-256, libsodium crypto_generichash, RFC 7693) in the `Sidep-Envelope-Auth` header as
 *    `<keyId>:<base64 tag>`. The processor checks the tag before it reads anything and then skips
 *    validation: it was half of the validation cost. Anyone can publish on a lab's ingest subject, so an
 *    envelope whose tag does not verify is dead-lettered, never processed. The envelope names its lab, and
 *    the processor requires it to be the lab of the subject.
 *  - 1, legacy (raw items as labs sent them): the processor validates the items again, as for plain JSON,
 *    so an unauthenticated one gains nothing over plain JSON. Kept for messages published before version 2.
 */
import { Packr } from 'msgpackr'
import { sodium } from './sodium.ts'
import type { ItemError } from './model/canonical.ts'

export const ENVELOPE_HEADER = 'Sidep-Envelope'
export const ENVELOPE_VERSION = '1'
export const TRUSTED_ENVELOPE_VERSION = '2'
export const ENVELOPE_AUTH_HEADER = 'Sidep-Envelope-Auth'

/** BLAKE2b-256: 128-bit security against forgery with room to spare */
const TAG_BYTES = 32

interface EnvelopeCommon {
  submissionId: string
  format: string
  /** the door it came through: 'http' or 'mllp' (absent in older envelopes: 'http') */
  channel?: 'http' | 'mllp'
  receivedAt: number
  /** items in the whole submission (all chunks) */
  itemCount: number
  rejected: Array<{ index: number; errors: ItemError[] }>
}

export interface IngestEnvelope extends EnvelopeCommon {
  v: 1
  items: Array<{ index: number; item: unknown }>
}

export interface TrustedEnvelope extends EnvelopeCommon {
  v: 2
  labId: string
  /** the item index of each result, in order */
  index: number[]
  /** each accepted item's canonical result as msgpack (plain maps), concatenated in `index` order */
  results: Uint8Array
}

/** An INGEST chunk ready to publish: its bytes and the headers that go with them. */
export interface EnvelopeChunk {
  data: Uint8Array
  version: typeof ENVELOPE_VERSION | typeof TRUSTED_ENVELOPE_VERSION
  auth?: string
}

/** The platform key that authenticates envelopes, and every key still accepted (rotation). */
export interface EnvelopeKeys {
  envelopeKeyId: string
  envelopeKeys: Record<string, Uint8Array>
}

/** An envelope that cannot be trusted or read; `code` is what the dead letter says. */
export class EnvelopeError extends Error {
  readonly code: 'ENVELOPE_UNAUTHENTICATED' | 'MALFORMED_ENVELOPE'
  constructor(code: EnvelopeError['code'], message: string) {
    super(message)
    this.name = 'EnvelopeError'
    this.code = code
  }
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

function tagOf(data: Uint8Array, key: Uint8Array): Uint8Array {
  return sodium.crypto_generichash(TAG_BYTES, data, key)
}

export function sealEnvelope(envelope: TrustedEnvelope, keys: EnvelopeKeys): EnvelopeChunk {
  // an exact-size copy: packr returns a view of its shared buffer
  const data = Uint8Array.prototype.slice.call(packr.pack(envelope)) as Uint8Array
  const tag = tagOf(data, keys.envelopeKeys[keys.envelopeKeyId])
  return { data, version: TRUSTED_ENVELOPE_VERSION, auth: `${keys.envelopeKeyId}:${Buffer.from(tag).toString('base64')}` }
}

/** Checks the tag over the exact bytes received, then decodes. Throws EnvelopeError. */
export function openEnvelope(data: Uint8Array, auth: string | undefined, keys: Record<string, Uint8Array> | undefined): TrustedEnvelope {
  const colon = auth ? auth.lastIndexOf(':') : -1
  const keyId = auth && colon > 0 ? auth.slice(0, colon) : ''
  const key = keys && Object.hasOwn(keys, keyId) ? keys[keyId] : undefined
  if (!auth || !key) throw new EnvelopeError('ENVELOPE_UNAUTHENTICATED', 'the envelope carries no tag under a known platform key')
  const claimed = Buffer.from(auth.slice(colon + 1), 'base64')
  // constant time (sodium_memcmp): the comparison must not tell a forger how many bytes were right
  if (claimed.length !== TAG_BYTES || !sodium.memcmp(claimed, tagOf(data, key))) {
    throw new EnvelopeError('ENVELOPE_UNAUTHENTICATED', 'the envelope tag does not verify: forged or altered')
  }
  let e: TrustedEnvelope
  try {
    e = packr.unpack(data) as TrustedEnvelope
  } catch (err) {
    throw new EnvelopeError('MALFORMED_ENVELOPE', (err as Error).message)
  }
  if (!e || e.v !== 2 || typeof e.labId !== 'string' || typeof e.submissionId !== 'string' || !Array.isArray(e.index) || !(e.results instanceof Uint8Array) || !Array.isArray(e.rejected)) {
    throw new EnvelopeError('MALFORMED_ENVELOPE', 'not a sidep trusted ingest envelope')
  }
  return e
}
