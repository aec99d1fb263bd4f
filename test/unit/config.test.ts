import t from 'tap'
import { parseConfig, optionsFromEnv } from '../../pipeline/config.ts'

t.test('defaults give a working local configuration, frozen', async (t) => {
  const c = parseConfig({})
  t.equal(c.httpPort, 8080)
  t.equal(c.natsUrl, 'nats://127.0.0.1:4222')
  t.equal(c.pgUrl, 'postgres://root@127.0.0.1:5432/sidep')
  t.same(c.roles, ['gateway', 'processor', 'clickhouse-sink', 'certifier'])
  t.equal(c.maxItems, 5000)
  t.ok(Object.isFrozen(c))
})

t.test('every bad value is refused with a message naming the variable', async (t) => {
  t.throws(() => parseConfig({ pgUrl: 'mysql://x' }), /SIDEP_PG_URL must be a postgres: or postgresql: URL/)
  t.throws(() => parseConfig({ httpPort: '80a' }), /SIDEP_HTTP_PORT must be an integer/)
  t.throws(() => parseConfig({ roles: 'gateway,cook' }), /SIDEP_ROLES .*'cook'/)
  t.throws(() => parseConfig({ clickhouseDatabase: 'x; DROP' }), /SIDEP_CH_DATABASE/)
  t.throws(() => parseConfig({ subjectRoot: 'a.>' }), /SIDEP_SUBJECT_ROOT/)
  t.throws(() => parseConfig({ nope: 1 } as never), /unknown option 'nope'/)
  t.throws(() => parseConfig({ dccKeyFile: '/k.pem' }), /SIDEP_DCC_KEY_FILE and SIDEP_DCC_CERT_FILE go together/)
  t.throws(() => parseConfig({ dccIssuer: 'x'.repeat(81) }), /SIDEP_DCC_ISSUER must be at most 80 characters/)
  t.throws(() => parseConfig({ dccCountry: 'fr' }), /SIDEP_DCC_COUNTRY/)
})

t.test('the environment is read once; a misspelt SIDEP_ variable is an error, not ignored', async (t) => {
  t.same(optionsFromEnv({ SIDEP_HTTP_PORT: '9000', HOME: '/root' }), { httpPort: '9000' })
  t.equal(parseConfig(optionsFromEnv({ SIDEP_ROLES: 'processor' })).roles.join(), 'processor')
  t.throws(() => optionsFromEnv({ SIDEP_HTTP_PROT: '9000' }), /unknown variable SIDEP_HTTP_PROT/)
})
