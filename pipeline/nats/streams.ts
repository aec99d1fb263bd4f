/**
 * The JetStream topology (DESIGN.md, "Streams and subjects"): streams and durable pull consumers, created or
 * brought up to date on every start, so running start again is harmless.
 */
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats'
import type { Topology } from '../subjects.ts'

const DAY_NS = 24 * 3600 * 1e9

export function streamConfigs(t: Topology): Array<Partial<StreamConfig> & { name: string }> {
  const common = { storage: StorageType.File, retention: RetentionPolicy.Limits, num_replicas: 1 }
  return [
    // publish dedup window (Nats-Msg-Id): a gateway retry within 2 minutes is stored once
    { ...common, name: t.ingestStream, subjects: [t.ingestAll], duplicate_window: 120 * 1e9, max_age: 7 * DAY_NS },
    { ...common, name: t.resultsStream, subjects: [t.resultsAll], duplicate_window: 120 * 1e9, max_age: 7 * DAY_NS },
    { ...common, name: t.feedStream, subjects: [t.feedAll], duplicate_window: 120 * 1e9, max_age: 30 * DAY_NS },
    { ...common, name: t.dlqStream, subjects: [t.dlqAll], max_age: 90 * DAY_NS },
  ]
}

export async function ensureStreams(jsm: JetStreamManager, t: Topology, ackWaitSeconds: number): Promise<void> {
  for (const config of streamConfigs(t)) {
    try {
      await jsm.streams.info(config.name)
      await jsm.streams.update(config.name, config)
    } catch (err) {
      if (!/stream not found/i.test(String((err as Error).message)) && (err as { code?: string }).code !== '404') throw err
      await jsm.streams.add(config)
    }
  }
  const consumer = {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ackWaitSeconds * 1e9,
    // retries are decided by the consumer code (retriable vs bad data), never by a server-side cap that
    // would silently stop redelivering
    max_deliver: -1,
    max_ack_pending: 5000,
  }
  for (const [stream, durable_name] of [[t.ingestStream, t.processorDurable], [t.feedStream, t.clickhouseDurable], [t.resultsStream, t.certifierDurable]]) {
    try {
      await jsm.consumers.info(stream, durable_name)
      await jsm.consumers.update(stream, durable_name, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending })
    } catch {
      await jsm.consumers.add(stream, { ...consumer, durable_name })
    }
  }
}

export async function deleteStreams(jsm: JetStreamManager, t: Topology): Promise<void> {
  for (const { name } of streamConfigs(t)) await jsm.streams.delete(name).catch(() => false)
}
