// Against the real local NATS server (127.0.0.1:4222, JetStream). A short ceiling run: every published
// message comes back through the durable pull consumer, and the temporary stream is gone afterwards.
// No timing assertions: the figures are the bench's business.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { connect } from 'nats'
import { measureCeiling } from '../../bench/ceiling.ts'

const servers = '127.0.0.1:4222'

async function streamExists(name: string): Promise<boolean> {
  const nc = await connect({ servers })
  try {
    const jsm = await nc.jetstreamManager()
    try {
      await jsm.streams.info(name)
      return true
    } catch (err) {
      if ((err as { code?: string }).code === '404' || /stream not found/i.test(String((err as Error).message))) return false
      throw err
    }
  } finally {
    await nc.close()
  }
}

for (const [itemsPerMessage, pull] of [[1, 'fetch'], [100, 'consume']] as const) {
  t.test(`${itemsPerMessage} item(s) per message, ${pull}: published == consumed, stream deleted`, async (t) => {
    const streamName = `TEST_CEILING_${randomBytes(4).toString('hex').toUpperCase()}`
    const r = await measureCeiling({ servers, itemsPerMessage, durationMs: 1000, messagesPerBatch: 128, maxInflight: 64, streamName, pull })
    t.equal(r.streamName, streamName)
    t.ok(r.published > 0, `messages published (${r.published})`)
    t.equal(r.publishErrors, 0, 'no publish errors')
    t.equal(r.consumed, r.published, 'every published message consumed once')
    t.equal(r.itemsPerMessage, itemsPerMessage)
    t.ok(r.messageBytes > 100 * itemsPerMessage, `payload looks like ${itemsPerMessage} JSON result item(s) (${r.messageBytes} B)`)
    t.ok(r.publish.itemsPerSec > 0 && r.consume.itemsPerSec > 0, 'rates computed')
    t.equal(r.streamDeleted, true)
    t.equal(await streamExists(streamName), false, 'the temporary stream is gone')
  })
}

t.test('concurrent mode round-trips too', async (t) => {
  const r = await measureCeiling({ servers, durationMs: 500, mode: 'concurrent' })
  t.equal(r.consumed, r.published)
  t.equal(await streamExists(r.streamName), false)
})

t.test('bad options are rejected before any stream is created', async (t) => {
  await t.rejects(measureCeiling({ servers, streamName: 'bad name!' }), { code: 'BENCH_CEILING_SETUP' })
  await t.rejects(measureCeiling({ servers, itemsPerMessage: 0 }), { code: 'BENCH_CEILING_SETUP' })
  await t.rejects(measureCeiling({ servers, messageBytes: 8 * 1024 * 1024 }), { code: 'BENCH_CEILING_SETUP' }, 'payload over max_payload')
})
