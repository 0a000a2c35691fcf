import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

// Pull records downloaded objects in batches (up to 256 files, their folders fsynced once,
// then one index transaction: docs/design.md §7). More files than one batch must all end up
// in the index: verify finds no object on disk the index lacks, and a second pull into a
// fresh clone of the same store finds every object and downloads nothing.
describe('pull of more small files than one batch', () => {
  it('records every object in the index, verify is clean, the files match', () => {
    const a = tempRepo();
    const remote = join(tempDir(), 'registry');
    const files = 600;
    for (let i = 0; i < files; i++) writeFile(a, `model/d${i % 7}/${i}.txt`, `small file ${i}\n`.repeat(1 + (i % 50)));
    expect(runCli(a, ['commit', 'many', 'model', '-m', 'many', '-q']).code).toBe(0);
    expect(runCli(a, ['remote', 'add', 'origin', remote, '--default']).code).toBe(0);
    expect(runCli(a, ['push', '-q']).code).toBe(0);

    const b = tempRepo();
    expect(runCli(b, ['remote', 'add', 'origin', remote, '--default']).code).toBe(0);
    const pulled = runCli(b, ['pull', 'many@latest', '--json']);
    expect(pulled.code).toBe(0);
    for (const i of [0, 255, 256, 257, 511, 599]) {
      const rel = `model/d${i % 7}/${i}.txt`;
      expect(readFileSync(join(b, rel), 'utf8'), rel).toBe(readFileSync(join(a, rel), 'utf8'));
    }
    const verified = runCli(b, ['verify', '--json']);
    expect(verified.code).toBe(0);
    const problems = (verified.json() as { problems?: { kind: string }[] }).problems ?? [];
    expect(problems.filter((p) => p.kind === 'unindexed-object')).toEqual([]);
    // Pulled again, everything is there already: nothing to download.
    const again = runCli(b, ['pull', 'many@latest', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.stringify(again.json())).not.toMatch(/"bytesDownloaded":[1-9]/);
  });
});
