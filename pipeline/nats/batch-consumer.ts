/**
 * Adaptive batching over a durable pull consumer: wait for one message, then take every message already
 * buffered, up to `maxMessages` messages or `maxBytes` of payload (a message may carry one result or
 * five hundred, so the byte bound is what keeps a batch's work and memory in proportion). Under load
 * batches fill up; when idle a single message goes through at once, so batching never adds latency. The
 * consume() buffer is bounded and only refilled as this loop takes messages, which is the back-pressure: a
 * slow handler makes the consumer lag.
 */
import type { Consumer, JsMsg } from 'nats'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'

const IDLE = Symbol('idle')
const UNEXPECTED_FAILURE_DELAY_MS = 5000
const STOP_GRACE_MS = 15_000

export interface BatchLimits {
  maxMessages: number
  maxBytes?: number
}

export interface BatchLoop {
  stopped: Promise<void>
  stop(): Promise<void>
}

export async function consumeInBatches(
  consumer: Consumer,
  limits: number | BatchLimits,
  handle: (batch: JsMsg[]) => Promise<void>,
  onUnexpected: (err: unknown) => void,
): Promise<BatchLoop> {
  const { maxMessages: maxBatch, maxBytes = Infinity } = typeof limits === 'number' ? { maxMessages: limits } : limits
  const messages = await consumer.consume({ max_messages: maxBatch * 2 })
  const iterator = messages[Symbol.asyncIterator]()
  let running = true
  let pending: Promise<IteratorResult<JsMsg>> | null = null

  const loop = async (): Promise<void> => {
    while (running) {
      const first = await (pending ?? iterator.next())
      pending = null
      if (first.done) break
      if (!running) {
        first.value.nak() // taken but not handled: give it back now rather than after ack_wait
        break
      }
      const batch: JsMsg[] = [first.value]
      let bytes = first.value.data.length
      while (batch.length < maxBatch && bytes < maxBytes) {
        pending = iterator.next()
        const next = await Promise.race([pending, nextTurn().then(() => IDLE)])
        if (next === IDLE) break
        pending = null
        if ((next as IteratorResult<JsMsg>).done) break
        batch.push((next as IteratorResult<JsMsg>).value)
        bytes += (next as IteratorResult<JsMsg>).value.data.length
      }
      try {
        await handle(batch)
      } catch (err) {
        // a handler bug must neither kill the loop nor lose the batch: give it back for redelivery
        for (const m of batch) m.nak(UNEXPECTED_FAILURE_DELAY_MS)
        onUnexpected(err)
      }
    }
  }
  const stopped = loop()
  return {
    stopped,
    async stop() {
      running = false
      // nats.js queues close() behind the messages still buffered and completes it only once the iterator
      // reaches that point: ask for it now, let the batch in progress finish, then drain what is left (nak:
      // redelivered at once rather than after ack_wait) so the iterator gets there. Awaiting close() first
      // hung whenever stop() came during a batch: the loop then never pulled again.
      const closed = messages.close()
      // a batch in progress finishes; a loop that does not come back in time is left behind rather than
      // holding the shutdown (its unacked messages are redelivered after ack_wait)
      const finished = await Promise.race([stopped.then(() => true), sleep(STOP_GRACE_MS, false, { ref: false })])
      if (!finished) return
      for (;;) {
        const r = await (pending ?? iterator.next())
        pending = null
        if (r.done) break
        r.value.nak()
      }
      await closed
    },
  }
}
