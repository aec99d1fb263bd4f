import t from 'tap'
import { identityKey, normaliseName } from '../../workers/validate/identity.ts'

t.test('normaliseName: upper case, no accents, separators to single spaces', async (t) => {
  t.equal(normaliseName('Dupont-Lefèvre'), 'DUPONT LEFEVRE')
  t.equal(normaliseName('DUPONT LEFEVRE '), 'DUPONT LEFEVRE')
  t.equal(normaliseName('dupont  lefèvre'), 'DUPONT LEFEVRE')
  t.equal(normaliseName("  d'Artagnan "), 'D ARTAGNAN')
  t.equal(normaliseName('N’Diaye'), 'N DIAYE', 'typographic apostrophe')
  t.equal(normaliseName('Jean-Hugues.  Éloi,'), 'JEAN HUGUES ELOI')
  t.equal(normaliseName('Ça Ñoño Ångström Müller'), 'CA NONO ANGSTROM MULLER')
  t.equal(normaliseName('Hélène\tZoé'), 'HELENE ZOE', 'tabs are separators')
})

t.test('normaliseName: ligatures and letters without decomposition', async (t) => {
  t.equal(normaliseName('Œuvray'), 'OEUVRAY')
  t.equal(normaliseName('cœur'), 'COEUR')
  t.equal(normaliseName('Lætitia'), 'LAETITIA')
  t.equal(normaliseName('Straße'), 'STRASSE')
  t.equal(normaliseName('STRAẞE'), 'STRASSE', 'capital sharp s')
  t.equal(normaliseName('Søren Łukasz'), 'SOREN LUKASZ')
  t.equal(normaliseName('ﬁlippi'), 'FILIPPI', 'compatibility ligature')
})

t.test('normaliseName: nothing left from punctuation only', async (t) => {
  t.equal(normaliseName(' - \' . '), '')
  t.equal(normaliseName('DUPONT'), 'DUPONT', 'fast path keeps normal input as is')
})

const base = { family: 'Dupont-Lefèvre', given: ['Marie', 'Anne'], birthDate: '1984-03-12', sex: 'F' as const }

t.test('identityKey from traits when there is no INS', async (t) => {
  t.equal(identityKey(base), 'T:DUPONT LEFEVRE|MARIE|1984-03-12|F')
  const variants = [
    { ...base, family: 'DUPONT LEFEVRE ' },
    { ...base, family: 'dupont  lefèvre' },
    { ...base, family: 'Dupont–Lefèvre', given: ['marie'] },
    { ...base, given: ['MARIE', 'Josephine'] },
  ]
  for (const v of variants) t.equal(identityKey(v), identityKey(base), v.family + ' / ' + v.given.join(' '))
  t.not(identityKey({ ...base, given: ['Anne', 'Marie'] }), identityKey(base), 'only the first given name counts')
  t.not(identityKey({ ...base, birthDate: '1984-03-13' }), identityKey(base))
  t.not(identityKey({ ...base, sex: 'U' }), identityKey(base))
  t.not(identityKey({ ...base, family: 'Dupont' }), identityKey(base))
})

t.test('identityKey uses a valid INS, and ignores an invalid one', async (t) => {
  t.equal(identityKey({ ...base, ins: '284037512345640' }), 'INS:284037512345640')
  t.equal(identityKey({ ...base, family: 'Other', ins: '284037512345640' }), 'INS:284037512345640', 'traits do not matter then')
  t.equal(identityKey({ ...base, ins: '284037512345641' }), 'T:DUPONT LEFEVRE|MARIE|1984-03-12|F', 'bad key: fall back to traits')
  t.equal(identityKey({ ...base, ins: '185032A12345601' }), 'INS:185032A12345601')
})
