/**
 * Writes test/vectors/chunker-v1.json. Run ONLY when the chunking format deliberately
 * changes (a new format version): `npx vite-node test/vectors/generate-chunker-vectors.ts`.
 * The committed file is what freezes format version 1.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ChunkHasher } from '../../src/store/hash-file.js';
import { CHUNKING, gearTableDigest } from '../../src/store/gear.js';
import { EMPTY_FILE_DIGEST } from '../../src/store/file-digest.js';
import { vectorStream } from './stream.js';

const cases = [
  { name: 'random-20MiB', seed: 'modelctl-chunker-vector-v1', length: 20 * 1024 * 1024 + 12345, zeros: false },
  { name: 'zeros-9MiB', seed: '', length: 9 * 1024 * 1024 + 7, zeros: true },
  { name: 'random-below-min', seed: 'modelctl-chunker-vector-small', length: 200_000, zeros: false },
];

const out = {
  format: 1,
  chunking: CHUNKING,
  gearTableSha256: gearTableDigest(),
  emptyFileDigest: EMPTY_FILE_DIGEST,
  cases: cases.map((c) => {
    const data = c.zeros ? Buffer.alloc(c.length) : vectorStream(c.seed, c.length);
    const h = new ChunkHasher();
    h.update(data);
    const r = h.finish();
    return {
      name: c.name,
      seed: c.seed,
      zeros: c.zeros,
      length: c.length,
      streamSha256: createHash('sha256').update(data).digest('hex'),
      cutPoints: r.chunks.map((ch) => ch.offset + ch.length),
      chunkDigests: r.chunks.map((ch) => ch.digest),
      fileDigest: r.digest,
    };
  }),
};
writeFileSync(new URL('./chunker-v1.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log(out.cases.map((c) => `${c.name}: ${c.cutPoints.length} chunks`).join('\n'));
