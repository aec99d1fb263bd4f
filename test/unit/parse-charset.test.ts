import t from 'tap'
import { decodeToUtf8 } from '../../workers/parse/charset.ts'

async function decodeChunks(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = []
  for await (const b of decodeToUtf8((async function* () { yield* chunks })())) out.push(b)
  return Buffer.concat(out).toString('utf8')
}

const TEXT = 'accession;family\nA-1;Lefèvre-Ménard\nA-2;François Œuvray\n'

t.test('UTF-8 passes through, whatever the chunk boundaries (even inside a character)', async (t) => {
  const bytes = Buffer.from(TEXT, 'utf8')
  for (let cut = 1; cut < bytes.length; cut++) {
    const got = await decodeChunks([bytes.subarray(0, cut), bytes.subarray(cut)])
    if (got !== TEXT) t.fail(`cut at ${cut}: ${JSON.stringify(got)}`)
  }
  t.pass('every split point reads the same text')
})

t.test('a Windows-1252 export (old Excel) is read as such, not with replacement characters', async (t) => {
  // é = E9, è = E8, ç = E7, Œ = 8C in Windows-1252
  const cp1252 = Buffer.from([...Buffer.from('A-1;Lef'), 0xe8, ...Buffer.from('vre-M'), 0xe9, ...Buffer.from('nard\nA-2;Fran'), 0xe7, ...Buffer.from('ois '), 0x8c, ...Buffer.from('uvray\n')])
  t.equal(await decodeChunks([cp1252]), 'A-1;Lefèvre-Ménard\nA-2;François Œuvray\n')
  t.equal(await decodeChunks([cp1252.subarray(0, 8), cp1252.subarray(8)]), 'A-1;Lefèvre-Ménard\nA-2;François Œuvray\n', 'split right after a Windows-1252 accent')
  const asciiThen = [Buffer.from('accession;family\n'), cp1252]
  t.equal(await decodeChunks(asciiThen), 'accession;family\nA-1;Lefèvre-Ménard\nA-2;François Œuvray\n', 'an ASCII header before the first accent')
})

t.test('a stream cut inside a character ends as Windows-1252 for those bytes', async (t) => {
  t.equal(await decodeChunks([Buffer.from([0x41, 0xc3])]), 'AÃ')
})
