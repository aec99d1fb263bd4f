/**
 * The MLLP listener: HL7 v2 over TCP (optionally TLS), the way most laboratory systems send ORU^R01.
 * Authentication: each message carries its lab's token in MSH-8 (Security, HL7 v2.5.1 2.14.9.8: "used to
 * implement security features"), checked like the HTTP bearer token; run it over TLS outside a trusted
 * network. A connection is served in HL7 original acknowledgement mode: one frame at a time, the socket
 * paused until the ACK is written (back-pressure on the sender). The ACK says AA, or AE/AR with ERR
 * segments naming the HL7 field, and is sent only after JetStream stored the accepted results.
 */
import net from 'node:net'
import tls from 'node:tls'
import { readFileSync } from 'node:fs'
import type { IngestDeps } from '../gateway/ingest-submission.ts'
import { admitBody } from '../gateway/ingest-submission.ts'
import { labForToken } from '../labs/lab-registry.ts'
import { MllpFrameDecoder, encodeFrame } from './frame-decoder.ts'
import { parseHl7v2, buildAck } from '../../workers/parse/hl7v2.ts'
import { SidepError } from '../errors.ts'

const IDLE_TIMEOUT_MS = 5 * 60_000

/** MSH-8 of the first message: the field after MSH-7, counting MSH-1 as the separator itself. */
export function securityField(text: string): string | null {
  const start = text.indexOf('MSH')
  if (start < 0 || text.length < start + 4) return null
  const sep = text[start + 3]
  const line = text.slice(start).split(/\r\n|\r|\n/, 1)[0]
  const fields = line.split(sep) // fields[0] = 'MSH', fields[1] = MSH-2, so MSH-n = fields[n - 1]
  const token = fields[7]?.trim()
  return token ? token : null
}

function ackEverything(text: string, code: 'AR' | 'AE', error: { code: string; field: string; message: string }): string {
  const parsed = parseHl7v2(text)
  const headers = parsed.ack.messages.length ? parsed.ack.messages.map((m) => m.header) : [null]
  return headers.map((h) => buildAck(h, { code, errors: [error] })).map((a) => (a.endsWith('\r') ? a : `${a}\r`)).join('')
}

export class MllpListener {
  private server: net.Server | null = null
  private readonly sockets = new Set<net.Socket>()

  constructor(
    private readonly d: IngestDeps,
    private readonly port: number,
    private readonly host: string,
    private readonly tlsFiles: { keyFile: string; certFile: string } | null,
  ) {}

  async start(): Promise<number> {
    const onSocket = (socket: net.Socket) => this.serve(socket)
    this.server = this.tlsFiles
      ? tls.createServer({ key: readFileSync(this.tlsFiles.keyFile), cert: readFileSync(this.tlsFiles.certFile) }, onSocket)
      : net.createServer(onSocket)
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(this.port, this.host, () => resolve())
    })
    const address = this.server.address()
    return typeof address === 'object' && address ? address.port : this.port
  }

  async stop(): Promise<void> {
    if (!this.server) return
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()))
    for (const s of this.sockets) s.end()
    await closed
    this.server = null
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.end())
    socket.on('error', () => socket.destroy())
    socket.on('close', () => this.sockets.delete(socket))
    const decoder = new MllpFrameDecoder(this.d.config.bodyLimit)
    const queue: Buffer[] = []
    let busy = false
    const drain = async () => {
      if (busy) return
      busy = true
      socket.pause()
      while (queue.length && !socket.destroyed) {
        const frame = queue.shift()!
        const answer = await this.handle(frame)
        if (!socket.destroyed) socket.write(encodeFrame(answer))
      }
      busy = false
      if (!socket.destroyed) socket.resume()
    }
    socket.on('data', (chunk: Buffer) => {
      try {
        queue.push(...decoder.push(chunk))
      } catch (err) {
        this.d.telemetry.log.warn({ event: 'mllp_frame_refused', code: (err as SidepError).code ?? 'MLLP_FRAME' })
        socket.destroy()
        return
      }
      void drain()
    })
  }

  /** One frame in, one frame of ACKs out; never throws. */
  private async handle(frame: Buffer): Promise<string> {
    const text = frame.toString('utf8')
    try {
      const token = securityField(text)
      const labId = token ? await labForToken(this.d.pg, token) : null
      if (!labId) {
        this.d.telemetry.itemsRejected(['UNAUTHORIZED'])
        return ackEverything(text, 'AR', { code: 'UNAUTHORIZED', field: 'MSH-8', message: 'MSH-8 must carry the lab token of an active laboratory' })
      }
      const admission = await admitBody(this.d, labId, 'hl7v2', frame, 'mllp')
      return (admission.acks ?? []).map((a) => (a.endsWith('\r') ? a : `${a}\r`)).join('')
    } catch (err) {
      const code = err instanceof SidepError ? err.code : 'INTERNAL'
      this.d.telemetry.log.error({ event: 'mllp_failed', code, err: (err as Error).message })
      // HL7 table 0357 207 "Application internal error": the sender keeps the message and resends it
      return ackEverything(text, 'AE', { code: 'INTERNAL', field: '', message: `not stored (${code}): send the message again` })
    }
  }
}
