/**
 * The few MessagePack forms the processor writes by hand to assemble RESULTS messages around results the
 * workers already encoded (msgpack spec, https://github.com/msgpack/msgpack/blob/master/spec.md, "Formats"):
 * array and map headers, strings, unsigned integers, nil, and pre-encoded values copied as they are. The
 * output decodes with any msgpack reader (the certifier uses msgpackr); headers take the smallest form, as
 * msgpackr writes them.
 */
export class MsgpackWriter {
  private buf: Buffer
  private pos = 0

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  reset(): void {
    this.pos = 0
  }

  /** A copy of what was written since reset, in its own exact-size buffer. */
  bytes(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos)
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** fixarray (≤ 15), array 16, array 32 */
  arrayHeader(n: number): this {
    this.room(5)
    if (n < 16) this.buf[this.pos++] = 0x90 | n
    else if (n < 0x10000) {
      this.buf[this.pos] = 0xdc
      this.buf.writeUInt16BE(n, this.pos + 1)
      this.pos += 3
    } else {
      this.buf[this.pos] = 0xdd
      this.buf.writeUInt32BE(n, this.pos + 1)
      this.pos += 5
    }
    return this
  }

  /** fixmap (≤ 15), map 16 */
  mapHeader(n: number): this {
    this.room(3)
    if (n < 16) this.buf[this.pos++] = 0x80 | n
    else {
      this.buf[this.pos] = 0xde
      this.buf.writeUInt16BE(n, this.pos + 1)
      this.pos += 3
    }
    return this
  }

  /** fixstr (< 32 bytes), str 8, str 16, str 32, UTF-8 */
  str(s: string): this {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit
    this.room(5 + s.length * 3)
    const bytes = s.length < 32 ? Buffer.byteLength(s, 'utf8') : -1
    if (bytes >= 0 && bytes < 32) {
      this.buf[this.pos] = 0xa0 | bytes
      this.pos += 1 + (bytes === 0 ? 0 : this.buf.write(s, this.pos + 1, 'utf8'))
      return this
    }
    // the length is known after writing: leave room for a str 32 header, then shift into the smallest form
    const start = this.pos
    const n = this.buf.write(s, start + 5, 'utf8')
    let header: number
    if (n < 0x100) {
      this.buf[start] = 0xd9
      this.buf[start + 1] = n
      header = 2
    } else if (n < 0x10000) {
      this.buf[start] = 0xda
      this.buf.writeUInt16BE(n, start + 1)
      header = 3
    } else {
      this.buf[start] = 0xdb
      this.buf.writeUInt32BE(n, start + 1)
      header = 5
    }
    if (header < 5) this.buf.copy(this.buf, start + header, start + 5, start + 5 + n)
    this.pos = start + header + n
    return this
  }

  /** positive fixint, uint 8/16/32 (a non-negative integer below 2^32) */
  uint(v: number): this {
    this.room(5)
    if (v < 0x80) this.buf[this.pos++] = v
    else if (v < 0x100) {
      this.buf[this.pos] = 0xcc
      this.buf[this.pos + 1] = v
      this.pos += 2
    } else if (v < 0x10000) {
      this.buf[this.pos] = 0xcd
      this.buf.writeUInt16BE(v, this.pos + 1)
      this.pos += 3
    } else {
      this.buf[this.pos] = 0xce
      this.buf.writeUInt32BE(v, this.pos + 1)
      this.pos += 5
    }
    return this
  }

  nil(): this {
    this.room(1)
    this.buf[this.pos++] = 0xc0
    return this
  }

  /** One value already encoded as msgpack, copied byte for byte. */
  raw(src: Uint8Array, start = 0, end = src.length): this {
    this.room(end - start)
    this.buf.set(src.subarray(start, end), this.pos)
    this.pos += end - start
    return this
  }
}
