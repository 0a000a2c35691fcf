import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { card } from '../../src/api/card.js';
import { runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

function repoWithHistory(): string {
  const repo = tempRepo();
  const ok = (args: string[]) => {
    const r = runCli(repo, args);
    expect(r.code, r.stderr).toBe(0);
  };
  writeFile(repo, 'model/weights.bin', Buffer.alloc(3000, 7));
  writeFile(repo, 'model/a|b.txt', 'pipe in a name');
  writeFile(repo, 'data/train.csv', 'a,b\n1,2\n');
  ok(['commit', 'fraud', 'model', '--param', 'lr=0.01', '--param', 'optimizer=adam', '--metric', 'accuracy=0.93', '--data', 'data/train.csv', '-m', 'first | try\nsecond line']);
  ok(['tag', 'fraud@v1', '1.0.0']);
  ok(['promote', 'fraud@v1', '--to', 'staging', '--yes', '--reason', 'looks good']);
  writeFile(repo, 'model/weights.bin', Buffer.alloc(3000, 8));
  ok(['commit', 'fraud', 'model', '--parent', 'fraud@v1', '-m', 'fine-tune']);
  return repo;
}

describe('card', () => {
  it('renders lineage, params, metrics, tags, stages and history as Markdown', () => {
    const repo = repoWithHistory();
    const r = runCli(repo, ['card', 'fraud@1.0.0']);
    expect(r.code, r.stderr).toBe(0);
    const md = r.stdout;
    expect(md).toMatch(/^# fraud v1$/m);
    expect(md).toMatch(/^> first \| try\n> second line$/m);
    expect(md).toMatch(/\| Tags \| `1\.0\.0` \|/);
    expect(md).toMatch(/\| Stages held \| \*\*staging\*\* \|/);
    expect(md).toMatch(/\| Size \| 2 files, 2\.9 KiB \|/);
    expect(md).toMatch(/\| accuracy \| 0\.93 \|/);
    expect(md).toMatch(/\| lr \| 0\.01 \|/);
    expect(md).toMatch(/\*\*Data\*\*: `data\/train\.csv` \(file, 8 B, `[0-9a-f]{12}`\)/);
    expect(md).toMatch(/\*\*Derived\*\*: `fraud@v2`/);
    expect(md).toMatch(/\| `model\/a\\\|b\.txt` \|/); // a pipe in a path cannot break the table
    expect(md).toMatch(/\| staging \| `fraud@v1` \(this version\) \|/);
    expect(md).toMatch(/\| promote \| .* \| staging: fraud@v1 \| looks good \|/);
    expect(md).not.toMatch(/\{\{/);
    const v2 = runCli(repo, ['card', 'fraud']).stdout;
    expect(v2).toMatch(/\*\*Parent\*\*: `fraud@v1`/);
    expect(v2).toMatch(/No stage holds|\| staging \| `fraud@v1` \|/);
  });

  it('-o writes the file; --json carries the Markdown', () => {
    const repo = repoWithHistory();
    const r = runCli(repo, ['card', 'fraud@v1', '-o', 'MODEL_CARD.md', '--json']);
    expect(r.code).toBe(0);
    const doc = r.json();
    expect(doc.ref).toBe('fraud@v1');
    expect(doc.output).toBe(join(repo, 'MODEL_CARD.md'));
    expect(readFileSync(join(repo, 'MODEL_CARD.md'), 'utf8')).toBe(doc.markdown);
    const human = runCli(repo, ['card', 'fraud@v1', '-o', 'CARD2.md']);
    expect(human.stdout).toMatch(/Wrote the model card of fraud@v1 to CARD2\.md/);
  });

  it('takes a template of your own; an unknown placeholder is a usage error', async () => {
    const repo = repoWithHistory();
    writeFileSync(join(repo, 'card.md'), '{{model}} {{version}}{{#metrics}}{{#items}} {{key}}={{value}}{{/items}}{{/metrics}}\n');
    const r = runCli(repo, ['card', 'fraud@v1', '--template', 'card.md']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('fraud v1 accuracy=0.93\n');
    writeFileSync(join(repo, 'bad.md'), '{{modle}}\n');
    const bad = runCli(repo, ['card', 'fraud@v1', '--template', 'bad.md', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.error().code).toBe('TEMPLATE_ERROR');
    expect(runCli(repo, ['card', 'fraud@v1', '--template', 'missing.md', '--json']).code).toBe(3);
    // The Node API defaults to exact sizes and UTC times (the CLI passes its human formatters).
    const api = await card({ cwd: repo, ref: 'fraud@v1' });
    expect(api.markdown).toMatch(/\| Size \| 2 files, 3014 B \|/);
  });

  it('an unknown reference exits 3', () => {
    const repo = repoWithHistory();
    expect(runCli(repo, ['card', 'fraud@v9', '--json']).code).toBe(3);
  });
});
