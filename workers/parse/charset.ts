/**
 * Spreadsheet exports are not always UTF-8: Excel on Windows writes "CSV" in Windows-1252 unless told
 * otherwise, and French names are full of é, è, ç. A byte stream is read as UTF-8 while it is valid UTF-8
 * (a multi-byte character split across two chunks is carried over, as string_decoder does); at the first
 * byte sequence that is not UTF-8, the stream is taken to be Windows-1252 from there on. What came before
 * was then ASCII in practice (the header and rows without accents), which reads the same either way; a file
 * mixing both encodings is not supported. Output is UTF-8 bytes, so the CSV parser sees one encoding.
 */
import { isUtf8 } from 'node:buffer'

/**
 * Windows-1252 bytes 0x80-0x9F (WHATWG Encoding, index-windows-1252); every other byte is its Latin-1 code
 * point. Written out because Node 20's TextDecoder('windows-1252') decodes these as Latin-1 C1 controls
 * (0x8C gives U+008C, not Œ). The five unassigned bytes keep their C1 code point, as WHATWG says.
 */
const C1 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ'
const CP1252 = {
  decode(bytes: Uint8Array): string {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').replace(/[\u0080-\u009f]/g, (c) => C1[c.charCodeAt(0) - 0x80])
  },
}

/** How many bytes at the end of `b` start a UTF-8 character that the next chunk completes (0 to 3). */
function incompleteTail(b: Buffer): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const byte = b[b.length - back]
    if ((byte & 0xc0) === 0x80) continue // continuation byte: look further back for the lead byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    return needed > back ? back : 0
  }
  return 0
}

export async function* decodeToUtf8(source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer, void, undefined> {
  let legacy = false
  let carry = Buffer.alloc(0)
  for await (const chunk of source) {
    if (typeof chunk === 'string') {
      yield Buffer.from(chunk, 'utf8')
      continue
    }
    if (legacy) {
      yield Buffer.from(CP1252.decode(chunk), 'utf8')
      continue
    }
    const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk
    const keep = incompleteTail(bytes)
    const body = keep ? bytes.subarray(0, bytes.length - keep) : bytes
    if (isUtf8(body)) {
      carry = keep ? Buffer.from(bytes.subarray(bytes.length - keep)) : Buffer.alloc(0)
      if (body.length) yield body
      continue
    }
    legacy = true
    carry = Buffer.alloc(0)
    yield Buffer.from(CP1252.decode(bytes), 'utf8')
  }
  // a stream that ends inside a UTF-8 character is not UTF-8 after all
  if (carry.length) yield Buffer.from(CP1252.decode(carry), 'utf8')
}
