import t from 'tap'
import { BENCH_DEFAULTS, parseBenchOptions, parseDurationMs, parseMix } from '../../bench/lib/options.ts'
import { BenchOptionsError } from '../../bench/lib/errors.ts'

t.test('defaults, frozen', async (t) => {
  const c = parseBenchOptions([])
  t.same(c, BENCH_DEFAULTS)
  t.ok(Object.isFrozen(c), 'config is frozen')
  t.ok(Object.isFrozen(c.mix), 'nested mix is frozen')
})

t.test('every flag, both spellings', async (t) => {
  const c = parseBenchOptions([
    '--rate', '10000',
    '--duration=5m',
    '--labs', '50',
    '--batch=500',
    '--transport', 'nats',
    '--mix', 'naat=0.5,antigen=0.5',
    '--positivity', '0.25',
    '--seed', '42',
    '--name', 'nats-10k',
    '--gateway', 'http://localhost:9090/',
    '--nats', '127.0.0.1:4223',
    '--out', '/tmp/x',
    '--no-ceiling',
  ])
  t.equal(c.rate, 10000)
  t.equal(c.durationMs, 300_000)
  t.equal(c.labs, 50)
  t.equal(c.batch, 500)
  t.equal(c.transport, 'nats')
  t.same(c.mix, { naat: 0.5, antigen: 0.5, serology: 0 })
  t.equal(c.positivity, 0.25)
  t.equal(c.seed, 42)
  t.equal(c.name, 'nats-10k')
  t.equal(c.gatewayUrl, 'http://localhost:9090', 'trailing slash dropped')
  t.equal(c.natsServers, '127.0.0.1:4223')
  t.equal(c.outDir, '/tmp/x')
  t.equal(c.ceiling, false)
  t.equal(parseBenchOptions(['--help']).help, true)
})

t.test('unknown flags are rejected, naming the flag', async (t) => {
  const err = t.throws(() => parseBenchOptions(['--rate', '10', '--speed', '3'])) as BenchOptionsError
  t.equal(err.code, 'BENCH_UNKNOWN_FLAG')
  t.equal(err.flag, '--speed')
  t.match(err.message, /--speed/)
  t.throws(() => parseBenchOptions(['--speed=3']), { code: 'BENCH_UNKNOWN_FLAG', flag: '--speed' })
  t.throws(() => parseBenchOptions(['rate']), { code: 'BENCH_UNKNOWN_FLAG' }, 'positional arguments rejected')
  t.throws(() => parseBenchOptions(['--constructor', '1']), { code: 'BENCH_UNKNOWN_FLAG' }, 'no prototype keys')
})

t.test('bad values are rejected, naming the flag', async (t) => {
  const cases: [string[], string, RegExp][] = [
    [['--rate', 'fast'], '--rate', /--rate must be a number/],
    [['--rate', '-5'], '--rate', /--rate/],
    [['--rate', '0'], '--rate', /--rate/],
    [['--labs', '2.5'], '--labs', /--labs must be an integer/],
    [['--batch', '6000'], '--batch', /--batch must be a number between 1 and 5000/],
    [['--transport', 'ftp'], '--transport', /--transport must be http or nats/],
    [['--positivity', '1.5'], '--positivity', /--positivity/],
    [['--duration', 'ten'], '--duration', /--duration must be a duration/],
    [['--duration', '0'], '--duration', /--duration/],
    [['--mix', 'naat=0.6,antigen=0.6'], '--mix', /--mix shares must sum to 1/],
    [['--mix', 'pcr=1'], '--mix', /unknown test type "pcr"/],
    [['--mix', 'naat'], '--mix', /--mix must look like/],
    [['--mix', 'naat=0.5,naat=0.5'], '--mix', /twice/],
    [['--gateway', 'ftp://x'], '--gateway', /--gateway must be an http/],
    [['--name', '../etc'], '--name', /--name/],
    [['--no-ceiling=1'], '--no-ceiling', /takes no value/],
    [['--rate', '10', '--rate', '20'], '--rate', /twice/],
  ]
  for (const [argv, flag, msg] of cases) {
    const err = t.throws(() => parseBenchOptions(argv), `${argv.join(' ')} rejected`) as BenchOptionsError
    t.equal(err.code, 'BENCH_BAD_VALUE', `${argv.join(' ')}: code`)
    t.equal(err.flag, flag)
    t.match(err.message, msg)
  }
  t.throws(() => parseBenchOptions(['--rate']), { code: 'BENCH_MISSING_VALUE', flag: '--rate' })
  t.throws(() => parseBenchOptions(['--rate', '--labs', '3']), { code: 'BENCH_MISSING_VALUE', flag: '--rate' })
})

t.test('helpers', async (t) => {
  t.equal(parseDurationMs('30', '--d'), 30_000)
  t.equal(parseDurationMs('1.5m', '--d'), 90_000)
  t.equal(parseDurationMs('500ms', '--d'), 500)
  t.same(parseMix('naat=0.6, antigen=0.35 ,serology=0.05', '--mix'), { naat: 0.6, antigen: 0.35, serology: 0.05 })
})
