/** A minimal MLLP sender for tests: writes raw bytes (so frames can be split or packed) and collects ACK frames. */
import net from 'node:net'
import { MllpFrameDecoder } from '../../pipeline/mllp/frame-decoder.ts'

export class MllpTestClient {
  private readonly decoder = new MllpFrameDecoder(1 << 24)
  private readonly frames: string[] = []
  private waiters: Array<() => void> = []

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      for (const f of this.decoder.push(chunk)) this.frames.push(f.toString('utf8'))
      this.waiters.splice(0).forEach((w) => w())
    })
  }

  static connect(port: number): Promise<MllpTestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new MllpTestClient(socket)))
      socket.once('error', reject)
    })
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())))
  }

  /** Waits until `n` ACK frames have arrived in all, and returns them. */
  async acks(n: number, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs
    while (this.frames.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.frames.length} of ${n} ACK frames arrived`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
    return this.frames.slice(0, n)
  }

  close(): void {
    this.socket.end()
  }
}

/** MSA-1 codes of an ACK frame (one per ACK message in the frame). */
export function msaCodes(frame: string): string[] {
  return frame.split('\r').filter((s) => s.startsWith('MSA')).map((s) => s.split('|')[1])
}
