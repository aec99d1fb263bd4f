// A batch ClickHouse refuses for its data must be dead-lettered, not retried forever: the classifier has to
// find the server's error code on the Debian 18.16 server too, which sends it only in the exception text.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createClickHouse, classifyClickHouseError } from '../../pipeline/clickhouse/client.ts'
import { PoisonError, RetriableError } from '../../pipeline/errors.ts'

const url = process.env.SIDEP_TEST_CH_URL ?? 'http://127.0.0.1:8123'
const db = `sidep_t_cherr_${randomBytes(4).toString('hex')}`

t.test('a row ClickHouse cannot parse is bad data (PoisonError), a refused connection is retriable', async (t) => {
  const ch = createClickHouse(url)
  t.teardown(async () => {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` })
    await ch.close()
  })
  await ch.command({ query: `CREATE DATABASE ${db}` })
  await ch.command({ query: `CREATE TABLE ${db}.d (day Date, n UInt32) ENGINE = MergeTree ORDER BY day` })
  const err = await ch
    .insert({ table: `${db}.d`, values: [{ day: 'not a date', n: 1 }], format: 'JSONEachRow' })
    .then(() => null, (e: unknown) => e)
  t.ok(err, 'the server refused the row')
  const classified = classifyClickHouseError(err)
  t.type(classified, PoisonError)
  t.equal(classified.code, 'CH_REJECTED_DATA')

  const down = createClickHouse('http://127.0.0.1:1')
  const refused = await down.query({ query: 'SELECT 1' }).then(() => null, (e: unknown) => e)
  await down.close()
  t.type(classifyClickHouseError(refused), RetriableError)
})
