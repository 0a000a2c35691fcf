/**
 * Randomized soak of gc racing commits (issue 10, item 1): in each round, leftover objects
 * (stored by commits that then failed) are reused by concurrent commits while gc runs with
 * no grace period at random moments. Every commit that says "Committed" must check out
 * byte-identical afterwards and verify must stay clean.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { pseudoRandomBytes, runCli, runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

const ROUNDS = Number(process.env.MODELCTL_SOAK_ROUNDS ?? 12);

describe('gc and commit soak', () => {
  it(`${ROUNDS} rounds of commits reusing leftovers while gc runs`, async () => {
    const repo = tempRepo();
    writeFile(repo, 'seed.bin', pseudoRandomBytes(100_000, 99));
    expect(runCli(repo, ['commit', 'seed', 'seed.bin']).code).toBe(0);
    let seed = 1000;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const committed: { ref: string; path: string; bytes: Buffer }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const files = [0, 1, 2].map((i) => {
        const path = `r${round}/f${i}.bin`;
        const bytes = pseudoRandomBytes(200_000 + Math.floor(rand() * 400_000), round * 10 + i + 1);
        writeFile(repo, path, bytes);
        // Stored, then refused: a leftover object the stat cache knows.
        expect(runCli(repo, ['commit', `m${i}`, path, '-m', 'x'.repeat(70_000)]).code).toBe(2);
        return { path, bytes, model: `m${i}` };
      });
      const runs = [
        ...files.map(async (f) => {
          await sleep(Math.floor(rand() * 400));
          const r = await runCliAsync(repo, ['commit', f.model, f.path, '--json'], { timeoutMs: 120_000 });
          return { kind: 'commit' as const, f, r };
        }),
        ...[0, 1].map(async () => {
          await sleep(Math.floor(rand() * 400));
          const r = await runCliAsync(repo, ['gc', '--json'], { env: { MODELCTL_GC_GRACE_SECONDS: '0' }, timeoutMs: 120_000 });
          return { kind: 'gc' as const, f: null, r };
        }),
      ];
      for (const { kind, f, r } of await Promise.all(runs)) {
        expect(r.code, `${kind} in round ${round}: ${r.stderr}`).toBe(0);
        if (kind === 'commit' && f) committed.push({ ref: JSON.parse(r.stdout).version.ref, path: f.path, bytes: f.bytes });
      }
      const v = runCli(repo, ['verify', '--json']);
      expect(v.code, `verify after round ${round}: ${v.stdout}`).toBe(0);
    }
    // A last gc with nothing in flight, then every acknowledged version is checked out.
    expect(runCli(repo, ['gc'], { env: { MODELCTL_GC_GRACE_SECONDS: '0' } }).code).toBe(0);
    for (const c of committed) {
      const out = tempDir();
      const r = runCli(repo, ['checkout', c.ref, '--out', out]);
      expect(r.code, `${c.ref}: ${r.stderr}`).toBe(0);
      expect(readFileSync(join(out, c.path)).equals(c.bytes), c.ref).toBe(true);
    }
  }, 900_000);
});
