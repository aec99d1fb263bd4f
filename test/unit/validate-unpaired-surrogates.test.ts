import t from 'tap'
import { validateItem } from '../../workers/validate/validate.ts'
import { makeItem } from '../helpers/results.ts'

// JSON may carry "\ud800" escapes that decode to an unpaired surrogate: not text, and PostgreSQL's jsonb
// refuses it (22P02), so it must be an itemised error at the door, not a poison message further down.
t.test('an unpaired surrogate in any text field is INVALID_FORMAT, a real astral character is fine', async (t) => {
  const now = Date.now()
  const bad = validateItem(makeItem({ orderId: 'A\ud800B', patient: { family: 'X\udc00' } }), { labId: 'l', now })
  t.equal(bad.ok, false)
  if (!bad.ok) {
    t.same(bad.errors.map((e) => [e.code, e.field]).sort(), [['INVALID_FORMAT', 'orderId'], ['INVALID_FORMAT', 'patient.family']])
  }
  const good = validateItem(makeItem({ orderId: 'ord-😀' }), { labId: 'l', now })
  t.equal(good.ok, true)
})
