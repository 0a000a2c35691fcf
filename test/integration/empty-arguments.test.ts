import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

// An unset shell variable (`modelctl commit fraud "$MODEL_DIR"`, `--out "$OUT"`) reaches
// modelctl as an empty word. Before, `commit m ""` recorded every file of the repository,
// `--data ""` recorded the repository as the data input, `checkout --out ""` placed the
// version in the work tree (removing files there), and `--parent ""`/`--tag ""`/`--params ""`
// were dropped without a word (found by a first-hour walk through the README).
describe('an empty word is refused, never read as "here" or as "not given"', () => {
  it('commit m "" is exit 2 and creates nothing', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'weights');
    writeFile(repo, 'notes/diary.txt', 'private');
    const r = runCli(repo, ['commit', 'm', '', '-m', 'x', '--json']);
    expect(r.code).toBe(2);
    expect(r.error().code).toBe('EMPTY_PATH');
    expect(runCli(repo, ['log', 'm', '--json']).code).toBe(3);
  });

  it('an option given an empty value is exit 2 and changes nothing', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'weights');
    await commitIn(repo, 'm', ['model'], 'one'); // arranged through the Node API (setup-api.ts)
    writeFile(repo, 'model/w.bin', 'weights 2');
    for (const extra of [['--data', ''], ['--parent', ''], ['--tag', ''], ['--params', ''], ['--metrics', '']]) {
      const r = runCli(repo, ['commit', 'm', 'model', '-m', 'two', ...extra, '--json']);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.error().code, extra.join(' ')).toBe('EMPTY_OPTION_VALUE');
      expect(r.error().message, extra.join(' ')).toContain(extra[0]);
    }
    expect(runCli(repo, ['log', 'm', '--json']).json().versions).toHaveLength(1);

    // checkout --out "" would place the version in the work tree and remove what it lacks.
    writeFile(repo, 'model/extra.bin', 'x');
    await commitIn(repo, 'm', ['model'], 'two');
    const co = runCli(repo, ['checkout', 'm@v1', '--out', '', '--json']);
    expect(co.code).toBe(2);
    expect(co.error().code).toBe('EMPTY_OPTION_VALUE');
    expect(readFileSync(join(repo, 'model/w.bin'), 'utf8')).toBe('weights 2');
    expect(existsSync(join(repo, 'model/extra.bin'))).toBe(true);

    const out = tempDir();
    for (const args of [['export', 'm@v1', '-o', ''], ['card', 'm@v1', '-o', '']]) {
      const r = runCli(out, ['-C', repo, ...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.error().code, args.join(' ')).toBe('EMPTY_OPTION_VALUE');
    }
  });

  it('an empty message or reason is still allowed (free text, not a path)', async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'weights');
    expect(runCli(repo, ['commit', 'm', 'model', '-m', '']).code).toBe(0);
    expect(runCli(repo, ['promote', 'm@v1', '--to', 'staging', '--reason', '']).code).toBe(0);
  });
});
