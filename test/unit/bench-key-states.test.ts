// The ledger's per-key states (bench/lib/key-states.ts): compact for the generator's accessions, exact for
// any other. Pure: no servers.
import t from 'tap'
import { KeyStates } from '../../bench/lib/key-states.ts'

t.test('generator accessions and any other string: distinct keys stay distinct, get/set/delete/size agree with a Map', async (t) => {
  const k = new KeyStates()
  const ref = new Map<string, number>()
  const labs = ['lab1', 'lab2']
  const accessions = ['rabc-0000001', 'rabc-0000002', 'rxyz-0000001', 'rabc-1', 'rabc-00000001', 'A1', 'rabc-000000a', '-0000001', 'x-y-0000001', 'rabc-9999999', 'rabc-12345678']
  const loincs = ['94500-6', '94558-4']
  let v = 0
  for (const lab of labs) for (const a of accessions) for (const l of loincs) {
    k.set(lab, a, l, ++v)
    ref.set(`${lab}|${a}|${l}`, v)
  }
  t.equal(k.size, ref.size, 'one entry per distinct key')
  for (const lab of labs) for (const a of accessions) for (const l of loincs) t.equal(k.get(lab, a, l), ref.get(`${lab}|${a}|${l}`), `${lab} ${a} ${l}`)
  k.set('lab1', 'rabc-0000001', '94500-6', 99)
  t.equal(k.get('lab1', 'rabc-0000001', '94500-6'), 99, 'overwritten')
  t.equal(k.size, ref.size, 'overwriting adds nothing')
  t.ok(k.delete('lab1', 'rabc-0000001', '94500-6'))
  t.notOk(k.delete('lab1', 'rabc-0000001', '94500-6'), 'deleted once')
  t.ok(k.delete('lab2', 'A1', '94558-4'))
  t.equal(k.size, ref.size - 2)
  t.equal(k.get('lab1', 'rabc-0000001', '94500-6'), undefined)
  t.equal(k.get('lab1', 'rabc-0000002', '94500-6'), ref.get('lab1|rabc-0000002|94500-6'), 'neighbours untouched')
  t.equal(k.get('lab3', 'rabc-0000002', '94500-6'), undefined, 'unknown group')
})
