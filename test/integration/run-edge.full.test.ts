import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, tempDir, writeFile } from '../helpers/temp-repo.js';
import { editSettings, git, mc, trainingRepo } from './repro-helpers.js';
import { versionCount } from '../helpers/run.js';

/**
 * `modelctl run` (docs/design.md §14) with a real training job: what the lineage records, the
 * log, the clean_git rule, failing and interrupted commands, secrets, and outputs that change
 * while they are committed.
 */

describe('modelctl run', () => {

  it('measures the peak memory of the whole process tree, not just the first process', () => {
    const root = trainingRepo();
    // Two children hold 96 MB each at the same time; each process alone stays near 130 MB.
    writeFile(
      root,
      'tree.js',
      `const { spawn } = require('node:child_process');
const hold = "const b = Buffer.alloc(96e6, 1); setTimeout(() => console.log(b[0]), 1500);";
const kids = [spawn(process.execPath, ['-e', hold]), spawn(process.execPath, ['-e', hold])];
let left = kids.length;
for (const k of kids) k.on('exit', () => { if (--left === 0) { require('fs').mkdirSync('model', { recursive: true }); require('fs').writeFileSync('model/w.bin', 'w'); require('fs').writeFileSync('metrics.json', '{}'); } });
`,
    );
    const r = mc(root, 'run', '--', 'node', 'tree.js');
    expect(r.code, r.stderr).toBe(0);
    const peak = r.json().run.peakMemory;
    expect(peak.samples).toBeGreaterThan(5);
    expect(peak.bytes).toBeGreaterThan(2 * 96e6);
  });

  it('a command too short to sample never reports a peak of "0 B"', () => {
    const root = trainingRepo();
    expect(mc(root, 'run', '--', 'node', 'train.js').code).toBe(0);
    const r = runCli(root, ['run', '--', 'true']);
    expect(r.code, r.stderr).toBe(0);
    // `true` lives about a millisecond: usually gone before the first sample (5 ms in), so "not
    // measured"; on a loaded machine a sample may catch it, and then its figure is real. The
    // sampler's own tests (test/unit/process-tree-memory.test.ts) pin which one happens when.
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/peak memory (not measured|[1-9][0-9.]* (B|KiB|MiB))/);
    expect(out).not.toContain('peak memory 0 B');
    const run = mc(root, 'show', 'tiny').json().lineage.run;
    expect(run.peakMemory.samples > 0).toBe(run.peakMemory.bytes > 0);
    // show's lineage line says the same as the run did, never "peak 0 B".
    const shown = runCli(root, ['show', 'tiny']).stdout;
    expect(shown).toMatch(/run: .*\(exit 0, [^)]*, peak (not measured|[1-9][0-9.]* (B|KiB|MiB))\)/);
    expect(shown).not.toContain('peak 0 B');
  });

  // Found in a first-hour walk: `git init`, then modelctl before the first git commit, was told
  // "requires a git work tree, and this is not one" (hint: "run from a git clone"), and show
  // printed "code: (not a git repository)" for a git repository.
  it('in a git repository before its first commit, clean_git says to commit, not that this is no git work tree', () => {
    const root = tempDir('modelctl-nocommit-');
    git(root, 'init', '-q');
    expect(runCli(root, ['init', '--yes', '--model', 'm', '--paths', 'model/']).code).toBe(0);
    const free = mc(root, 'run', '--', 'node', '-e', "require('fs').mkdirSync('model');require('fs').writeFileSync('model/w', '1')");
    expect(free.code, free.stderr).toBe(0);
    expect(runCli(root, ['show', 'm@v1']).stdout).toMatch(/code: +\(not recorded: outside git, or before the first git commit\)/);

    editSettings(root, (s) => void (s.run = { clean_git: true }));
    const refused = mc(root, 'run', '--', 'node', '-e', "require('fs').writeFileSync('ran', 'x')");
    expect(refused.code).toBe(5);
    expect(refused.error().code).toBe('NO_GIT_COMMIT');
    expect(refused.error().hint).toMatch(/git commit/);
    expect(existsSync(join(root, 'ran'))).toBe(false);

    const outside = tempDir('modelctl-nogit-');
    expect(runCli(outside, ['init', '--yes', '--model', 'm', '--paths', 'model/']).code).toBe(0);
    editSettings(outside, (s) => void (s.run = { clean_git: true }));
    expect(mc(outside, 'run', '--', 'node', '-e', '0').error().code).toBe('NOT_IN_GIT');
  });

  it('with no model declared, the hint is a command that declares one (init cannot: modelctl.json exists)', () => {
    const root = trainingRepo();
    editSettings(root, (s) => void (s.models = {}));
    const none = mc(root, 'run', '--', 'node', 'train.js');
    expect(none.code).toBe(2);
    expect(none.error().code).toBe('NO_MODEL');
    // Follow the hint as a person would, with their model's name and output folder.
    const hinted = /`modelctl (config set [^`]+)`/.exec(none.error().hint as string)![1].replace('models.fraud.', 'models.tiny.');
    const args = hinted.match(/'[^']*'|\S+/g)!.map((a) => a.replace(/^'|'$/g, '')); // the shell's quoting
    expect(mc(root, ...args).code).toBe(0);
    const ran = mc(root, 'run', '--', 'node', 'train.js');
    expect(ran.code, ran.stderr).toBe(0);
    expect(versionCount(root)).toBe(1);
  });

  it('Ctrl-C reaches the command, then modelctl exits 130 with nothing committed', async () => {
    const root = trainingRepo();
    // The job writes its outputs, then waits; on SIGINT it notes it and exits 0 — a run that
    // would be committed if modelctl ignored the interrupt.
    writeFile(
      root,
      'slow.js',
      `const fs = require('fs');
fs.mkdirSync('model', { recursive: true });
fs.writeFileSync('model/w.bin', 'weights');
fs.writeFileSync('metrics.json', '{}');
process.on('SIGINT', () => { fs.writeFileSync('got-sigint', 'yes'); process.exit(0); });
fs.writeFileSync('started', 'yes');
setTimeout(() => {}, 30000);
`,
    );
    const child = spawn(process.execPath, [BIN, 'run', '--json', '--', 'node', 'slow.js'], { cwd: root, env: cliEnv({ CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!existsSync(join(root, 'started')) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20));
    // Only modelctl gets the signal (as `kill -INT`); it must pass it on to its command.
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(JSON.parse(stderr.trim().split('\n').pop() as string).error.code).toBe('INTERRUPTED');
    expect(readFileSync(join(root, 'got-sigint'), 'utf8')).toBe('yes');
    expect(versionCount(root)).toBe(0);
  });

  it('outputs that change while they are committed are refused (exit 4), nothing committed', () => {
    const root = trainingRepo();
    // The job leaves a writer behind that keeps appending to its output after it exits.
    writeFile(
      root,
      'leaves-writer.js',
      `const fs = require('fs');
const { spawn } = require('child_process');
fs.mkdirSync('model', { recursive: true });
fs.writeFileSync('model/big.bin', Buffer.alloc(48 * 1024 * 1024, 7));
fs.writeFileSync('metrics.json', '{}');
const writer = "const fs = require('fs'); const end = Date.now() + 6000; const t = setInterval(() => { fs.appendFileSync('model/big.bin', 'x'); if (Date.now() > end) clearInterval(t); }, 1);";
const w = spawn(process.execPath, ['-e', writer], { detached: true, stdio: 'ignore' });
fs.writeFileSync('writer.pid', String(w.pid));
w.unref();
setTimeout(() => {}, 150);
`,
    );
    const r = mc(root, 'run', '--', 'node', 'leaves-writer.js');
    try {
      process.kill(Number(readFileSync(join(root, 'writer.pid'), 'utf8')), 'SIGKILL');
    } catch {
      /* already done */
    }
    expect(r.code, r.stderr).toBe(4);
    expect(r.error().code).toBe('FILE_CHANGED');
    expect(versionCount(root)).toBe(0);
    expect(statSync(join(root, 'model/big.bin')).size).toBeGreaterThan(48 * 1024 * 1024);
  });
});
