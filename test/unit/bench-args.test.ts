/**
 * The bench's command line (bench/lib.mjs): a mistyped flag or case id must be refused at
 * once, not start (or silently skip) a quarter-hour run; and the list of ids `--only` takes
 * must name every case the bench runs.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const bench = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bench', 'run.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });

describe('bench arguments', () => {
  it('--help prints the options and exits 0 without running anything', () => {
    const r = bench('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--only a,b');
    expect(r.stdout).not.toContain('modelctl bench (');
  });

  it('an unknown flag, a flag without its value and an unknown case id exit 2 with what went wrong', () => {
    const flag = bench('--quik');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('unknown argument "--quik"');
    const bare = bench('--runs');
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('--runs needs a value');
    const id = bench('--only', 'oci,ocii');
    expect(id.status).toBe(2);
    expect(id.stderr).toContain('--only ocii: no such case');
    expect(id.stderr).not.toContain('--only oci,');
  });

  it('CASE_IDS names exactly the ids the bench files run (step and wanted)', () => {
    const used = new Set<string>();
    for (const f of readdirSync(join(ROOT, 'bench')).filter((n) => n.endsWith('.mjs'))) {
      for (const m of readFileSync(join(ROOT, 'bench', f), 'utf8').matchAll(/\b(?:step|wanted)\('([a-z0-9-]+)'/g)) used.add(m[1]!);
    }
    const r = spawnSync(process.execPath, ['-e', "import('./bench/lib.mjs').then((m) => console.log(JSON.stringify(m.CASE_IDS)))"], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect([...(JSON.parse(r.stdout) as string[])].sort()).toEqual([...used].sort());
  });
});
