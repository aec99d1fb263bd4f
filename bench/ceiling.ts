/**
 * The hardware ceiling: raw JetStream publish + consume of messages shaped like the platform's INGEST
 * messages, with no processing at all. The bench divides the platform's throughput by this figure.
 *
 * What is measured (issue 3):
 * - a temporary stream (file storage, like INGEST) on its own subject, deleted afterwards;
 * - async publishes with a Nats-Msg-Id (the gateway sets one for dedup, and the server pays for the
 *   dedup window) and a bounded in-flight window of unacknowledged publishes;
 * - a durable pull consumer pulling batches of `messagesPerBatch` (consume() by default, fetch() as an
 *   option), acking every message explicitly (the processor acks after its effect is durable), doing
 *   nothing else.
 * One message carries `itemsPerMessage` results (an INGEST message is one submission: a JSON array of
 * result items), so rates are given both in messages/s and in results (items)/s.
 *
 * Modes: 'sequential' publishes for durationMs, then drains the stream (publish and consume rates each
 * measured alone, as issue 3 quotes them); 'concurrent' consumes while publishing, as the platform does.
 *
 * Uses only JetStream features NATS server 2.9 has: stream/consumer management API, pull requests with
 * batch + expires (ADR-13), publish dedup via Nats-Msg-Id.
 *
 * CLI: npx tsx bench/ceiling.ts [--servers 127.0.0.1:4222] [--duration 5s] [--items 1,100]
 *      [--batch 256] [--inflight 256] [--mode sequential|concurrent] [--ack explicit|none]
 *      [--pull fetch|consume] [--json]
 */
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { AckPolicy, connect, DeliverPolicy, StorageType, type JsMsg, type NatsConnection } from 'nats'
import { CeilingError } from './lib/errors.ts'
import { parseDurationMs, parseFlags, parseInteger, type FlagSpec } from './lib/options.ts'
import { SyntheticLabs } from './lib/synthetic-labs.ts'

export interface CeilingOptions {
  /** NATS servers (default '127.0.0.1:4222') */
  servers?: string | string[]
  /** results per message: 1, or a whole submission (default 1) */
  itemsPerMessage?: number
  /** payload size in bytes; default: the size of a real JSON array of itemsPerMessage synthetic items */
  messageBytes?: number
  /** pull batch size (max_messages of one fetch) (default 256) */
  messagesPerBatch?: number
  /** most unacknowledged async publishes at once (default 256) */
  maxInflight?: number
  /** publish phase length (default 2000 ms) */
  durationMs?: number
  /** temporary stream name (default BENCH_CEILING_<random>); must not exist */
  streamName?: string
  /** default 'sequential' */
  mode?: 'sequential' | 'concurrent'
  /** set Nats-Msg-Id on every publish, as the gateway does (default true) */
  msgId?: boolean
  /** 'explicit': ack every message, as the processor does (default); 'none': no acks (transport only) */
  ack?: 'explicit' | 'none'
  /**
   * 'consume' (default): nats.js keeps pull requests of messagesPerBatch outstanding and refills them
   * before they run dry; 'fetch': one pull request per batch, the next one after the batch is done
   * (a round trip per batch: about half the consume rate for small messages here).
   */
  pull?: 'fetch' | 'consume'
  /** give up draining after this long (default max(30 s, 10 × durationMs)) */
  drainTimeoutMs?: number
}

export interface RateFigures {
  durationMs: number
  messagesPerSec: number
  itemsPerSec: number
  mbPerSec: number
}

export interface CeilingResult {
  streamName: string
  mode: 'sequential' | 'concurrent'
  itemsPerMessage: number
  messageBytes: number
  messagesPerBatch: number
  maxInflight: number
  ack: 'explicit' | 'none'
  pull: 'fetch' | 'consume'
  /** publishes acknowledged by the server (stored) */
  published: number
  publishErrors: number
  /** messages consumed for the first time (redeliveries not counted) */
  consumed: number
  redelivered: number
  publish: RateFigures
  consume: RateFigures
  /** results/s the raw transport sustains: min of publish and consume items/s */
  ceilingItemsPerSec: number
  streamDeleted: boolean
}

function figures(count: number, itemsPerMessage: number, bytes: number, ms: number): RateFigures {
  const s = ms / 1000
  return {
    durationMs: Math.round(ms),
    messagesPerSec: s > 0 ? count / s : 0,
    itemsPerSec: s > 0 ? (count * itemsPerMessage) / s : 0,
    mbPerSec: s > 0 ? (count * bytes) / s / 1048576 : 0,
  }
}

/** A payload that looks like an INGEST message: a JSON array of synthetic results, or `bytes` of it. */
export function ingestLikePayload(itemsPerMessage: number, bytes?: number): Uint8Array {
  const gen = new SyntheticLabs({ seed: 7, labs: 1, clock: () => Date.UTC(2026, 0, 15, 12) })
  const json = new TextEncoder().encode(JSON.stringify(gen.batch(0, itemsPerMessage).map((g) => g.item)))
  if (bytes === undefined) return json
  const out = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i += json.length) out.set(json.subarray(0, Math.min(json.length, bytes - i)), i)
  return out
}

export async function measureCeiling(options: CeilingOptions = {}): Promise<CeilingResult> {
  const itemsPerMessage = options.itemsPerMessage ?? 1
  const messagesPerBatch = options.messagesPerBatch ?? 256
  const maxInflight = options.maxInflight ?? 256
  const durationMs = options.durationMs ?? 2000
  const mode = options.mode ?? 'sequential'
  const useMsgId = options.msgId ?? true
  const ack = options.ack ?? 'explicit'
  const pull = options.pull ?? 'consume'
  const drainTimeoutMs = options.drainTimeoutMs ?? Math.max(30_000, 10 * durationMs)
  const suffix = randomBytes(4).toString('hex').toUpperCase()
  const streamName = options.streamName ?? `BENCH_CEILING_${suffix}`
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(streamName)) throw new CeilingError('BENCH_CEILING_SETUP', `stream name ${JSON.stringify(streamName)} must be 1-64 letters, digits, _ or -`)
  for (const [k, v] of Object.entries({ itemsPerMessage, messagesPerBatch, maxInflight })) {
    if (!Number.isInteger(v) || v < 1) throw new CeilingError('BENCH_CEILING_SETUP', `${k} must be a positive integer, got ${v}`)
  }
  const payload = ingestLikePayload(itemsPerMessage, options.messageBytes)
  const subject = `bench.ceiling.${streamName}`
  const durable = 'ceiling'

  let nc: NatsConnection
  try {
    nc = await connect({ servers: options.servers ?? '127.0.0.1:4222', name: `sidep-bench-ceiling-${streamName}` })
  } catch (cause) {
    throw new CeilingError('BENCH_CEILING_SETUP', `cannot connect to NATS at ${String(options.servers ?? '127.0.0.1:4222')}`, { cause })
  }
  const maxPayload = nc.info?.max_payload ?? 1048576
  if (payload.length > maxPayload) {
    await nc.close()
    throw new CeilingError('BENCH_CEILING_SETUP', `a ${payload.length}-byte message exceeds the server's max_payload ${maxPayload}`)
  }

  const jsm = await nc.jetstreamManager()
  let created = false
  let streamDeleted = false
  try {
    await jsm.streams.add({ name: streamName, subjects: [subject], storage: StorageType.File, num_replicas: 1 })
    created = true
    await jsm.consumers.add(streamName, {
      durable_name: durable,
      ack_policy: ack === 'explicit' ? AckPolicy.Explicit : AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      // enough outstanding acks for a full fetch batch plus the one in flight
      max_ack_pending: Math.max(1000, messagesPerBatch * 4),
    })
    const js = nc.jetstream()
    const consumer = await js.consumers.get(streamName, durable)

    // --- publish ------------------------------------------------------------------------------------
    let published = 0
    let publishErrors = 0
    let firstPublishError: unknown
    let inflight = 0
    let publishDone = false
    let slot: (() => void) | null = null
    const onAck = (): void => {
      published++
      inflight--
      if (slot !== null) {
        const s = slot
        slot = null
        s()
      }
    }
    const onError = (err: unknown): void => {
      publishErrors++
      firstPublishError ??= err
      inflight--
      if (slot !== null) {
        const s = slot
        slot = null
        s()
      }
    }
    const runId = suffix
    const publishPhase = async (): Promise<number> => {
      const t0 = performance.now()
      const end = t0 + durationMs
      let seq = 0
      while (performance.now() < end) {
        if (inflight >= maxInflight) {
          await new Promise<void>((resolve) => (slot = resolve))
          continue
        }
        inflight++
        seq++
        js.publish(subject, payload, useMsgId ? { msgID: `${runId}-${seq}` } : undefined).then(onAck, onError)
      }
      while (inflight > 0) await new Promise<void>((resolve) => (slot = resolve))
      const ms = performance.now() - t0
      publishDone = true
      return ms
    }

    // --- consume ------------------------------------------------------------------------------------
    let consumed = 0
    let redelivered = 0
    const consumePhase = async (): Promise<number> => {
      let first = Number.NaN
      let last = Number.NaN
      const deadline = performance.now() + durationMs + drainTimeoutMs
      const done = (): boolean => publishDone && consumed >= published
      const take = (m: JsMsg): void => {
        if (Number.isNaN(first)) first = performance.now()
        if (m.redelivered) redelivered++
        else consumed++
        if (ack === 'explicit') m.ack()
        last = performance.now()
      }
      if (pull === 'fetch') {
        while (!done() && performance.now() < deadline) {
          const iter = await consumer.fetch({ max_messages: messagesPerBatch, expires: 1000 })
          for await (const m of iter) {
            take(m)
            // the last, partial batch would otherwise wait for its pull request to expire
            if (done()) break
          }
        }
      } else {
        const iter = await consumer.consume({ max_messages: messagesPerBatch, expires: 1000 })
        // the iterator never ends by itself: stop it when everything is in, or at the deadline
        const check = setInterval(() => {
          if (done() || performance.now() >= deadline) iter.stop()
        }, 50)
        try {
          for await (const m of iter) {
            take(m)
            if (done()) iter.stop()
          }
        } finally {
          clearInterval(check)
        }
      }
      await nc.flush() // acks are fire-and-forget publishes: make sure the server has them
      return Number.isNaN(first) ? 0 : last - first
    }

    let publishMs: number
    let consumeMs: number
    if (mode === 'sequential') {
      publishMs = await publishPhase()
      consumeMs = await consumePhase()
    } else {
      ;[publishMs, consumeMs] = await Promise.all([publishPhase(), consumePhase()])
    }
    if (published === 0 && publishErrors > 0) {
      throw new CeilingError('BENCH_CEILING_PUBLISH', `every publish failed (${publishErrors})`, { cause: firstPublishError })
    }
    if (consumed < published) {
      throw new CeilingError('BENCH_CEILING_CONSUME', `consumed ${consumed} of ${published} messages before the drain timeout`)
    }

    const publish = figures(published, itemsPerMessage, payload.length, publishMs)
    const consume = figures(consumed, itemsPerMessage, payload.length, consumeMs)
    await jsm.streams.delete(streamName)
    streamDeleted = true
    return {
      streamName,
      mode,
      itemsPerMessage,
      messageBytes: payload.length,
      messagesPerBatch,
      maxInflight,
      ack,
      pull,
      published,
      publishErrors,
      consumed,
      redelivered,
      publish,
      consume,
      ceilingItemsPerSec: Math.min(publish.itemsPerSec, consume.itemsPerSec),
      streamDeleted,
    }
  } finally {
    if (created && !streamDeleted) await jsm.streams.delete(streamName).catch(() => undefined)
    await nc.close()
  }
}

// -------------------------------------------------------------------------------------------------------
// CLI

interface CeilingCliConfig {
  servers: string
  durationMs: number
  items: number[]
  batch: number
  inflight: number
  mode: 'sequential' | 'concurrent'
  ack: 'explicit' | 'none'
  pull: 'fetch' | 'consume'
  json: boolean
  help: boolean
}

/** A flag value that must be one of two words; the message names the flag and both words. */
function oneOf<A extends string, B extends string>(a: A, b: B) {
  return (r: string, f: string): A | B => {
    if (r === a || r === b) return r as A | B
    throw new CeilingError('BENCH_CEILING_SETUP', `${f} must be ${a} or ${b}`)
  }
}

const CLI_FLAGS: Record<string, FlagSpec<CeilingCliConfig>> = {
  '--servers': { kind: 'value', key: 'servers', parse: (r) => r },
  '--duration': { kind: 'value', key: 'durationMs', parse: parseDurationMs },
  '--items': { kind: 'value', key: 'items', parse: (r, f) => r.split(',').map((x) => parseInteger(x, f, 1, 5000)) },
  '--batch': { kind: 'value', key: 'batch', parse: (r, f) => parseInteger(r, f, 1, 10_000) },
  '--inflight': { kind: 'value', key: 'inflight', parse: (r, f) => parseInteger(r, f, 1, 100_000) },
  '--mode': { kind: 'value', key: 'mode', parse: oneOf('sequential', 'concurrent') },
  '--ack': { kind: 'value', key: 'ack', parse: oneOf('explicit', 'none') },
  '--pull': { kind: 'value', key: 'pull', parse: oneOf('fetch', 'consume') },
  '--json': { kind: 'boolean', key: 'json', value: true },
  '--help': { kind: 'boolean', key: 'help', value: true },
}

const CLI_USAGE = `Usage: npx tsx bench/ceiling.ts [--servers 127.0.0.1:4222] [--duration 5s] [--items 1,100]
                                [--batch 256] [--inflight 256] [--mode sequential|concurrent]
                                [--ack explicit|none] [--pull fetch|consume] [--json]`

async function main(argv: string[]): Promise<void> {
  const defaults: CeilingCliConfig = { servers: '127.0.0.1:4222', durationMs: 5000, items: [1, 100], batch: 256, inflight: 256, mode: 'sequential', ack: 'explicit', pull: 'consume', json: false, help: false }
  const cfg = parseFlags(argv, CLI_FLAGS, defaults)
  if (cfg.help) {
    console.log(CLI_USAGE)
    return
  }
  const results: CeilingResult[] = []
  for (const items of cfg.items) {
    results.push(await measureCeiling({ servers: cfg.servers, itemsPerMessage: items, durationMs: cfg.durationMs, messagesPerBatch: cfg.batch, maxInflight: cfg.inflight, mode: cfg.mode, ack: cfg.ack, pull: cfg.pull }))
  }
  if (cfg.json) {
    console.log(JSON.stringify(results, null, 2))
    return
  }
  const n = (v: number): string => Math.round(v).toLocaleString('en-US')
  console.log(`JetStream ceiling (${cfg.mode}, file storage, Nats-Msg-Id, ${cfg.pull} batch ${cfg.batch}, ack ${cfg.ack}, in-flight ${cfg.inflight}, ${cfg.durationMs / 1000} s publish)`)
  console.log('items/msg  bytes/msg  published  pub msgs/s  pub items/s  sub msgs/s  sub items/s  pub MB/s  ceiling items/s')
  for (const r of results) {
    console.log(
      [
        String(r.itemsPerMessage).padStart(9),
        n(r.messageBytes).padStart(10),
        n(r.published).padStart(10),
        n(r.publish.messagesPerSec).padStart(11),
        n(r.publish.itemsPerSec).padStart(12),
        n(r.consume.messagesPerSec).padStart(11),
        n(r.consume.itemsPerSec).padStart(12),
        r.publish.mbPerSec.toFixed(1).padStart(9),
        n(r.ceilingItemsPerSec).padStart(16),
      ].join(' '),
    )
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const e = err as { code?: string; message?: string }
    console.error(`ceiling: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`)
    process.exitCode = 1
  })
}
