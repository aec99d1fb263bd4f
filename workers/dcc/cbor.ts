/**
 * The one CBOR codec of the DCC area (RFC 8949), configured for COSE/CWT interoperability:
 * - no cbor-x record extension and no tag 259 for Maps, so the bytes are plain CBOR any verifier reads
 *   (hcert spec §3: payload is a CBOR map; COSE headers are maps with integer labels, RFC 8152 §3);
 * - JS `Map` ↔ CBOR map (integer keys kept), plain objects → CBOR maps with text keys;
 * - byte strings ↔ Uint8Array without tag 64.
 * Decoding keeps every map as a `Map` so integer labels stay integers; `toPlain` turns the DCC payload
 * (text keys only) into plain JSON-like objects.
 */
import { Decoder, Encoder, Tag } from 'cbor-x'

export const cborEncoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  variableMapSize: true
} as ConstructorParameters<typeof Encoder>[0])

export const cborDecoder = new Decoder({
  useRecords: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  int64AsNumber: true
} as ConstructorParameters<typeof Decoder>[0])

export function cborEncode (value: unknown): Buffer {
  return cborEncoder.encode(value)
}

export function cborDecode (bytes: Uint8Array): unknown {
  return cborDecoder.decode(bytes)
}

export { Tag }

/** Map → object (keys stringified), recursively; Uint8Array kept; Tag unwrapped to its value. */
export function toPlain (value: unknown): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of value) out[String(k)] = toPlain(v)
    return out
  }
  if (Array.isArray(value)) return value.map(toPlain)
  if (value instanceof Tag) return toPlain(value.value)
  return value
}
