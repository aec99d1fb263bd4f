import t from 'tap'
import { allDepartments, departmentByCode, lookupPostcode, residenceOf, UNKNOWN_COUNTRY } from '../../workers/validate/geo.ts'

t.test('the department table is loaded from data/geo/fr-departments.csv', async (t) => {
  t.equal(allDepartments().length, 101, '96 metropolitan (with 2A/2B) + 5 overseas departments')
  t.same(departmentByCode('75'), { code: '75', name: 'Paris', regionCode: '11', regionName: 'Île-de-France', population: departmentByCode('75')!.population })
  t.equal(departmentByCode('2A')!.regionCode, '94')
  t.equal(departmentByCode('20'), undefined, 'department 20 no longer exists')
  t.equal(departmentByCode('975'), undefined, 'Saint-Pierre-et-Miquelon is a collectivity')
})

t.test('metropolitan postcodes: first two digits', async (t) => {
  t.same(residenceOf({ postcode: '75013', country: 'FR' }), { residence: { country: 'FR', department: '75', region: '11' }, problem: null })
  t.same(residenceOf({ postcode: '01000' }).residence, { country: 'FR', department: '01', region: '84' }, 'no country means France')
  t.same(residenceOf({ postcode: '95000', country: 'fr' }).residence, { country: 'FR', department: '95', region: '11' }, 'country is upper-cased')
})

t.test('Corsica: 20000-20199 is 2A, 20200-20699 is 2B', async (t) => {
  t.equal(residenceOf({ postcode: '20000' }).residence.department, '2A', 'Ajaccio')
  t.equal(residenceOf({ postcode: '20190' }).residence.department, '2A')
  t.equal(residenceOf({ postcode: '20199' }).residence.department, '2A', 'last 2A postcode')
  t.equal(residenceOf({ postcode: '20200' }).residence.department, '2B', 'Bastia, first 2B postcode')
  t.equal(residenceOf({ postcode: '20600' }).residence.department, '2B')
  t.equal(residenceOf({ postcode: '20200' }).residence.region, '94')
  t.same(residenceOf({ postcode: '20700' }), { residence: { country: 'FR', department: null, region: null }, problem: 'UNKNOWN_POSTCODE' })
})

t.test('overseas departments: first three digits', async (t) => {
  t.same(residenceOf({ postcode: '97110' }).residence, { country: 'FR', department: '971', region: '01' }, 'Pointe-à-Pitre')
  t.same(residenceOf({ postcode: '97411' }).residence, { country: 'FR', department: '974', region: '04' }, 'La Réunion')
  t.same(residenceOf({ postcode: '97600' }).residence, { country: 'FR', department: '976', region: '06' }, 'Mayotte')
  t.equal(residenceOf({ postcode: '97000' }).problem, 'UNKNOWN_POSTCODE', '970 is no department')
})

t.test('overseas collectivities and Monaco are territories with their own country code', async (t) => {
  t.same(residenceOf({ postcode: '98000' }), { residence: { country: 'MC', department: null, region: null }, problem: null }, 'Monaco')
  t.same(residenceOf({ postcode: '98000', country: 'FR' }).residence.country, 'MC', 'even when the lab says FR')
  t.equal(residenceOf({ postcode: '97500' }).residence.country, 'PM')
  t.equal(residenceOf({ postcode: '97133' }).residence.country, 'BL', 'Saint-Barthélemy kept a 971 postcode')
  t.equal(residenceOf({ postcode: '97150' }).residence.country, 'MF', 'Saint-Martin kept a 971 postcode')
  t.equal(residenceOf({ postcode: '98800' }).residence.country, 'NC')
  t.equal(residenceOf({ postcode: '98714' }).residence.country, 'PF')
  t.equal(residenceOf({ postcode: '98600' }).residence.country, 'WF')
  t.equal(residenceOf({ postcode: '98100' }).problem, 'UNKNOWN_POSTCODE')
  t.equal(residenceOf({ postcode: '97500' }).residence.department, null)
})

t.test('unknown and malformed French postcodes', async (t) => {
  t.same(residenceOf({ postcode: '00000' }), { residence: { country: 'FR', department: null, region: null }, problem: 'UNKNOWN_POSTCODE' })
  t.equal(residenceOf({ postcode: '96000' }).problem, 'UNKNOWN_POSTCODE')
  t.equal(residenceOf({ postcode: '99999' }).problem, 'UNKNOWN_POSTCODE')
  t.equal(residenceOf({ postcode: '7501' }).problem, 'INVALID_FORMAT')
  t.equal(residenceOf({ postcode: '75 013' }).problem, 'INVALID_FORMAT')
  t.equal(residenceOf({ postcode: 'SW1A 1AA', country: 'FR' }).problem, 'INVALID_FORMAT')
  t.same(lookupPostcode('2A000'), { kind: 'invalid' })
})

t.test('a residence outside France never gets a department, whatever the postcode', async (t) => {
  t.same(residenceOf({ postcode: '75013', country: 'BE' }), { residence: { country: 'BE', department: null, region: null }, problem: null })
  t.same(residenceOf({ postcode: 'SW1A 1AA', country: 'gb' }).residence, { country: 'GB', department: null, region: null })
  t.same(residenceOf({ postcode: '98000', country: 'MC' }).residence, { country: 'MC', department: null, region: null })
})

t.test('ISO codes of overseas departments mean France', async (t) => {
  t.same(residenceOf({ country: 'RE' }).residence, { country: 'FR', department: '974', region: '04' }, 'no postcode: the department of the code')
  t.same(residenceOf({ country: 'GP', postcode: '97110' }).residence, { country: 'FR', department: '971', region: '01' })
})

t.test('absent address or postcode', async (t) => {
  t.same(residenceOf(undefined), { residence: { country: UNKNOWN_COUNTRY, department: null, region: null }, problem: null })
  t.equal(UNKNOWN_COUNTRY, 'ZZ')
  t.same(residenceOf({}).residence, { country: 'FR', department: null, region: null }, 'an address without country is French')
  t.same(residenceOf({ country: 'FR', postcode: '' }), { residence: { country: 'FR', department: null, region: null }, problem: null })
})
