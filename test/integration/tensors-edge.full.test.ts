import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { buildGguf, buildSafetensors } from '../helpers/tensor-files.js';
import { commitNoMessage, bigTensors } from '../helpers/tensors.js';

describe('tensor summaries at commit, show, ls and card', () => {

  it('tells large TF.js manifests from other large JSON files (a tokenizer is no model file)', async () => {
    const repo = tempRepo();
    const weights = Array.from({ length: 3000 }, (_, i) => ({ name: `layer_${i}/kernel`, shape: [2], dtype: 'float32' }));
    writeFile(repo, 'm/big-weights_manifest.json', JSON.stringify([{ paths: ['big.bin'], weights }]));
    writeFile(repo, 'm/big.bin', Buffer.alloc(3000 * 8));
    const vocab = Object.fromEntries(Array.from({ length: 20000 }, (_, i) => [`token${i}`, i]));
    writeFile(repo, 'm/tokenizer.json', JSON.stringify({ model: { vocab }, note: 'weightsManifest is only a word here' }));
    await commitNoMessage(repo, 'm', ['m']);
    const rows = runCli(repo, ['show', 'm', '--json']).json().modelFiles;
    expect(rows.map((r: { path: string }) => r.path)).toEqual(['m/big-weights_manifest.json']);
    expect(rows[0].summary).toMatchObject({ format: 'tfjs', tensorCount: 3000, parameterCount: 6000 });
  });

  it('verify --rebuild-index records the summaries again', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/model.gguf', buildGguf({ metadata: { 'general.architecture': { type: 'string', value: 'llama' } }, tensors: [{ name: 't', dims: [8], type: 0, data: Buffer.alloc(32) }] }));
    await commitNoMessage(repo, 'm', ['m']);
    const before = runCli(repo, ['show', 'm', '--json']).json().modelFiles;
    expect(before[0].summary).toMatchObject({ format: 'gguf', tensorCount: 1, parameterCount: 8, hints: { architecture: 'llama' } });
    rmSync(join(repo, '.modelctl', 'index.db'));
    for (const ext of ['-wal', '-shm']) rmSync(join(repo, '.modelctl', `index.db${ext}`), { force: true });
    const rebuilt = runCli(repo, ['verify', '--rebuild-index', '--json']);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.json().tensorSummaries).toBe(1);
    expect(runCli(repo, ['show', 'm', '--json']).json().modelFiles).toEqual(before);
  });

  it('pull records the summaries of the version it brings', async () => {
    const repo = tempRepo();
    const remote = join(tempDir(), 'remote');
    writeFile(repo, 'm/model.safetensors', buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [4, 4], data: Buffer.alloc(32, 3) }]));
    await commitNoMessage(repo, 'm', ['m']);
    await remoteAddIn(repo, 'origin', remote, { default: true });
    await pushIn(repo); // everything, as push --all
    const clone = tempRepo();
    await remoteAddIn(clone, 'origin', remote, { default: true });
    expect(runCli(clone, ['pull', 'm']).code).toBe(0);
    expect(runCli(clone, ['show', 'm', '--json']).json().parameters).toMatchObject({ parameterCount: 16, dtypes: [{ dtype: 'bf16', parameters: 16 }] });
  });

  it('a fetched version gets its summaries when its files are here already; one whose files are not says so', async () => {
    const team = tempRepo();
    const remote = join(tempDir(), 'remote');
    const model = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [4, 4], data: Buffer.alloc(32, 3) }]);
    writeFile(team, 'm/model.safetensors', model);
    await commitNoMessage(team, 'm', ['m']);
    await remoteAddIn(team, 'origin', remote, { default: true });
    await pushIn(team);
    const clone = tempRepo();
    await remoteAddIn(clone, 'origin', remote, { default: true });
    expect(runCli(clone, ['pull', 'm']).code).toBe(0);
    // The team's v2 renames the file: every byte of it is in the clone after the pull of v1.
    renameSync(join(team, 'm/model.safetensors'), join(team, 'm/renamed.safetensors'));
    await commitNoMessage(team, 'm', ['m']);
    await pushIn(team);
    expect(runCli(clone, ['fetch']).code).toBe(0);
    expect(runCli(clone, ['show', 'm@v2', '--json']).json().parameters).toMatchObject({ parameterCount: 16 });
    // A v3 with new bytes: not read until pulled, and show says why it has no parameters.
    writeFile(team, 'm/other.safetensors', buildSafetensors([{ name: 'x', dtype: 'F32', shape: [2], data: Buffer.alloc(8, 1) }]));
    await commitNoMessage(team, 'm', ['m']);
    await pushIn(team);
    expect(runCli(clone, ['fetch']).code).toBe(0);
    const v3 = runCli(clone, ['show', 'm@v3', '--json']).json();
    expect(v3).toMatchObject({ parameters: null, filesNotHere: 1 });
    expect(runCli(clone, ['show', 'm@v3']).stdout).toContain('Params:   not read: 1 of the files are not here (`modelctl pull m@v3` reads their headers)');
  });
});

describe('diff --tensors', () => {
  it('counts model files with nothing changed on one line instead of listing each as "0 of N changed"', async () => {
    const repo = tempRepo();
    const tensors = bigTensors();
    writeFile(repo, 'llm/model.safetensors', buildSafetensors(tensors, { format: 'pt' }));
    writeFile(repo, 'llm/extra.safetensors', buildSafetensors(tensors.slice(0, 2), { format: 'pt' }));
    writeFile(repo, 'llm/config.json', '{"note": 1}');
    await commitIn(repo, 'llm', ['llm'], 'v1');
    writeFile(repo, 'llm/config.json', '{"note": 2}');
    await commitIn(repo, 'llm', ['llm'], 'v2');
    const same = runCli(repo, ['diff', 'llm@v1', 'llm@v2', '--tensors']);
    expect(same.code).toBe(0);
    expect(same.stdout).not.toMatch(/0 of \d+ tensors changed/);
    expect(same.stdout).toContain('no tensor changed in 2 model files (llm/extra.safetensors, llm/model.safetensors)');
    // --json still lists every file.
    expect(runCli(repo, ['diff', 'llm@v1', 'llm@v2', '--tensors', '--json']).json().tensors.files).toHaveLength(2);
    // One file changed: it is listed, the other is counted.
    const edited = tensors.map((t) => ({ ...t, data: Buffer.from(t.data) }));
    edited[3].data.fill(7, 0, 64);
    writeFile(repo, 'llm/model.safetensors', buildSafetensors(edited, { format: 'pt' }));
    await commitIn(repo, 'llm', ['llm'], 'v3');
    const one = runCli(repo, ['diff', 'llm@v2', 'llm@v3', '--tensors']).stdout;
    expect(one).toMatch(/llm\/model\.safetensors: 1 of 8 tensors changed/);
    expect(one).toContain('unchanged: 1 model file (llm/extra.safetensors)');
  });

  it('a file unreadable in one version gets its error; the command goes on', async () => {
    const repo = tempRepo();
    writeFile(repo, 'm/a.safetensors', buildSafetensors([{ name: 'w', dtype: 'U8', shape: [4], data: Buffer.alloc(4) }]));
    writeFile(repo, 'm/b.gguf', buildGguf({ metadata: {}, tensors: [{ name: 't', dims: [4], type: 0, data: Buffer.alloc(16) }] }));
    await commitNoMessage(repo, 'm', ['m']);
    writeFile(repo, 'm/a.safetensors', Buffer.from('not a safetensors file at all'));
    writeFile(repo, 'm/b.gguf', buildGguf({ metadata: {}, tensors: [{ name: 't', dims: [4], type: 0, data: Buffer.alloc(16, 1) }] }));
    await commitNoMessage(repo, 'm', ['m']);
    const d = runCli(repo, ['diff', 'm@v1', 'm@v2', '--tensors', '--json']);
    expect(d.code).toBe(0);
    const files = d.json().tensors.files;
    expect(files.find((f: { path: string }) => f.path === 'm/a.safetensors').error.code).toBe('TENSOR_HEADER_INVALID');
    expect(files.find((f: { path: string }) => f.path === 'm/b.gguf').changed).toEqual(['t']);
  });
});
