/**
 * MLLP framing (HL7 v2.5.1 Implementation Guide, Appendix C "Minimal Lower Layer Protocol" release 1):
 * a message travels as <VT 0x0B> payload <FS 0x1C><CR 0x0D>. TCP may split a frame across packets or put
 * several frames in one packet, so bytes accumulate until a complete frame is there. Hand-written: it is
 * the whole protocol, and the npm MLLP servers either need Node 22 or own the socket (no back-pressure or
 * per-connection authentication hook).
 */
export const START_BLOCK = 0x0b
export const END_BLOCK = 0x1c
export const CARRIAGE_RETURN = 0x0d

export class FrameTooLarge extends Error {
  readonly code = 'MLLP_FRAME_TOO_LARGE'
}

export class MllpFrameDecoder {
  private buffer: Buffer = Buffer.alloc(0)

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds received bytes; returns the payloads of every frame now complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk
    const frames: Buffer[] = []
    for (;;) {
      const start = this.buffer.indexOf(START_BLOCK)
      if (start < 0) {
        this.buffer = Buffer.alloc(0) // bytes outside a frame carry nothing (MLLP: discard them)
        break
      }
      let end = this.buffer.indexOf(END_BLOCK, start + 1)
      while (end >= 0 && end + 1 < this.buffer.length && this.buffer[end + 1] !== CARRIAGE_RETURN) {
        end = this.buffer.indexOf(END_BLOCK, end + 1)
      }
      if (end < 0 || end + 1 >= this.buffer.length) {
        this.buffer = start > 0 ? this.buffer.subarray(start) : this.buffer
        if (this.buffer.length > this.maxFrameBytes) {
          this.buffer = Buffer.alloc(0)
          throw new FrameTooLarge(`an MLLP frame is larger than ${this.maxFrameBytes} bytes`)
        }
        break
      }
      frames.push(Buffer.from(this.buffer.subarray(start + 1, end)))
      this.buffer = this.buffer.subarray(end + 2)
    }
    return frames
  }
}

export function encodeFrame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  return Buffer.concat([Buffer.from([START_BLOCK]), body, Buffer.from([END_BLOCK, CARRIAGE_RETURN])])
}
