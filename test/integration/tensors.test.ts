import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commitIn } from '../helpers/setup-api.js';
import { runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';
import { buildSafetensors } from '../helpers/tensor-files.js';
import { MiB, commitNoMessage, bigTensors } from '../helpers/tensors.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/tensors/', import.meta.url));

/** A repository holding the real ONNX and TF.js models of the fixtures. */
function repoWithRealModels(): string {
  const repo = tempRepo();
  cpSync(join(FIXTURES, 'openwakeword'), join(repo, 'wake'), { recursive: true });
  mkdirSync(join(repo, 'face'));
  for (const f of ['tiny_face_detector_model-weights_manifest.json', 'tiny_face_detector_model.bin']) cpSync(join(FIXTURES, 'face-api', f), join(repo, 'face', f));
  for (const f of ['liveness.json', 'liveness.bin']) cpSync(join(FIXTURES, 'human-models', f), join(repo, 'face', f));
  return repo;
}

describe('tensor summaries at commit, show, ls and card', () => {
  it('records parameters and dtypes of real ONNX and TF.js models and shows their tensor tables', async () => {
    const repo = repoWithRealModels();
    await commitIn(repo, 'wake', ['wake'], 'v1');
    await commitIn(repo, 'face', ['face'], 'v1');

    const shown = runCli(repo, ['show', 'wake', '--json']).json();
    expect(shown.parameters).toMatchObject({ files: 2, formats: ['onnx'], tensorCount: 14 + 263, parameterCount: 50405 + 445121, unreadable: 0 });
    expect(shown.modelFiles.map((m: { path: string }) => m.path)).toEqual(['wake/hey_rhasspy_v0.1.onnx', 'wake/silero_vad.onnx']);
    expect(shown.tensors).toBeUndefined();
    expect(runCli(repo, ['show', 'wake']).stdout).toMatch(/Params: .*parameters/);

    const tables = runCli(repo, ['show', 'wake', '--tensors', '--file', 'wake/hey_rhasspy_v0.1.onnx', '--json']);
    expect(tables.code).toBe(0);
    const [view] = tables.json().tensors;
    expect(view).toMatchObject({ path: 'wake/hey_rhasspy_v0.1.onnx', format: 'onnx', error: null });
    expect(view.tensors.find((t: { name: string }) => t.name === '1.weight')).toMatchObject({ dtype: 'f32', shape: [32, 1536], parameters: 49152, file: null, length: 196608 });
    expect(view.inputs[0]).toMatchObject({ name: 'onnx::Flatten_0', shape: [1, 16, 96] });

    const face = runCli(repo, ['show', 'face', '--tensors', '--json']).json();
    expect(face.tensors.map((v: { path: string }) => v.path)).toEqual(['face/liveness.json', 'face/tiny_face_detector_model-weights_manifest.json']);
    expect(face.tensors[1].tensors[0]).toMatchObject({ name: 'conv0/filters', storage: 'u8', file: 'face/tiny_face_detector_model.bin' });
    expect(runCli(repo, ['show', 'face', '--tensors']).stdout).toContain('conv0/filters');

    const ls = runCli(repo, ['ls', '--json']).json();
    const wake = ls.models.find((m: { name: string }) => m.name === 'wake');
    expect(wake.latestParameters.parameterCount).toBe(50405 + 445121);
    expect(runCli(repo, ['ls']).stdout).toContain('PARAMS');
    expect(runCli(repo, ['card', 'face']).stdout).toMatch(/\| Weights \| .*parameters/);
  });

  it('a hostile model file is committed as bytes, its summary says why it is unreadable, and the other files still show', () => {
    const repo = tempRepo();
    const good = buildSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: Buffer.alloc(8, 1) }]);
    const bad = Buffer.from(good);
    bad.writeBigUInt64LE(4n * 1024n ** 3n); // a 4 GiB header length
    writeFile(repo, 'm/good.safetensors', good);
    writeFile(repo, 'm/bad.safetensors', bad);
    writeFile(repo, 'm/config.json', '{"hidden_size": 8}');
    const committed = runCli(repo, ['commit', 'm', 'm', '--json']);
    expect(committed.code).toBe(0);

    const shown = runCli(repo, ['show', 'm', '--json']).json();
    expect(shown.modelFiles).toHaveLength(2); // config.json is no model file
    const badRow = shown.modelFiles.find((r: { path: string }) => r.path === 'm/bad.safetensors');
    expect(badRow.error.code).toBe('TENSOR_HEADER_INVALID');
    expect(shown.parameters).toMatchObject({ unreadable: 1, parameterCount: 2 });
    // In the human table the long error of the bad file does not push the good file's
    // columns apart, and one tensor is "1 tensor".
    const human = runCli(repo, ['show', 'm']).stdout.split('\n');
    expect(human.find((l) => l.includes('m/good.safetensors') && l.includes('params'))).toMatch(/ 1 tensor {2}2 params/);
    expect(human.find((l) => l.startsWith('Params:'))).toContain('1 tensor in 1 safetensors file');
    // The reason stands beside the path, which is not repeated inside it.
    const badLine = human.find((l) => l.includes('m/bad.safetensors') && l.includes('unreadable'))!;
    expect(badLine).toMatch(/unreadable: not a valid safetensors file: /);
    expect(badLine.split('m/bad.safetensors')).toHaveLength(2);

    const tables = runCli(repo, ['show', 'm', '--tensors', '--json']);
    expect(tables.code).toBe(0);
    const views = tables.json().tensors;
    expect(views.find((v: { path: string }) => v.path === 'm/bad.safetensors').error.code).toBe('TENSOR_HEADER_INVALID');
    expect(views.find((v: { path: string }) => v.path === 'm/good.safetensors').tensors).toHaveLength(1);
    expect(tables.stderr).toContain('bad.safetensors');
    expect(tables.stderr.split('m/bad.safetensors')).toHaveLength(2);

    const only = runCli(repo, ['show', 'm', '--tensors', '--file', 'm/bad.safetensors', '--json']);
    expect(only.code).toBe(6);
    expect(only.error().code).toBe('TENSOR_HEADER_INVALID');
    expect(runCli(repo, ['show', 'm', '--file', 'm/config.json', '--json']).code).toBe(2);
    expect(runCli(repo, ['show', 'm', '--file', 'm/nope.safetensors', '--json']).code).toBe(3);
  });
});

describe('diff --tensors', () => {
  it('finds the one changed tensor of a multi-chunk file reading only part of it, and lists added, removed and reshaped ones', async () => {
    const repo = tempRepo();
    const tensors = bigTensors();
    writeFile(repo, 'llm/model.safetensors', buildSafetensors(tensors, { format: 'pt' }));
    await commitIn(repo, 'llm', ['llm'], 'v1');

    // v2: a few bytes in the middle of layer 5 change.
    const edited = tensors.map((t) => ({ ...t, data: Buffer.from(t.data) }));
    edited[5].data.fill(0, 300_000, 300_100);
    writeFile(repo, 'llm/model.safetensors', buildSafetensors(edited, { format: 'pt' }));
    await commitIn(repo, 'llm', ['llm'], 'v2');

    const d = runCli(repo, ['diff', 'llm@v1', 'llm@v2', '--tensors', '--json']);
    expect(d.code).toBe(0);
    const t = d.json().tensors;
    const [file] = t.files;
    expect(file).toMatchObject({ path: 'llm/model.safetensors', format: 'safetensors', added: [], removed: [], reshaped: [], changed: ['layers.5.weight'] });
    expect(file.counts).toEqual({ added: 0, removed: 0, reshaped: 0, changed: 1, unchanged: 7 });
    expect(file.parameters).toMatchObject({ before: 8 * 262144, after: 8 * 262144, changed: 262144, share: 0.125 });
    // Only the changed chunks' ranges were read (both versions), not the 8 MiB file.
    // Comparing whole files would read 16 MiB (both versions); the changed chunk's tensors are a fraction.
    expect(t.bytesRead).toBeGreaterThan(0);
    expect(t.bytesRead).toBeLessThan(4 * MiB);
    expect(file.comparedExactly).toBeLessThan(8);
    expect(runCli(repo, ['diff', 'llm@v1', 'llm@v2', '--tensors']).stdout).toMatch(/1 of 8 tensors changed/);

    // v3: layer 0 dropped, layer 1 reshaped, a new head added (the header changes size, so offsets shift).
    const v3 = [
      { ...edited[1], shape: [262144] },
      ...edited.slice(2),
      { name: 'lm_head.weight', dtype: 'F32', shape: [16], data: Buffer.alloc(64, 5) },
    ];
    writeFile(repo, 'llm/model.safetensors', buildSafetensors(v3, { format: 'pt' }));
    await commitIn(repo, 'llm', ['llm'], 'v3');
    const d3 = runCli(repo, ['diff', 'llm@v2', 'llm@v3', '--tensors', '--json']).json().tensors.files[0];
    expect(d3).toMatchObject({ added: ['lm_head.weight'], removed: ['layers.0.weight'], reshaped: ['layers.1.weight'], changed: [] });
    expect(d3.counts.unchanged).toBe(6);
    expect(d3.reshapes[0]).toEqual({ name: 'layers.1.weight', before: { dtype: 'f32', shape: [512, 512] }, after: { dtype: 'f32', shape: [262144] } });
  });

  it('compares small real models exactly (one chunk each) and names the tensor an edit touched', async () => {
    const repo = repoWithRealModels();
    await commitNoMessage(repo, 'wake', ['wake']);
    await commitNoMessage(repo, 'face', ['face']);
    const onnx = join(repo, 'wake', 'hey_rhasspy_v0.1.onnx');
    const bytes = readFileSync(onnx);
    bytes.writeFloatLE(42, 2240 + 4 * 100); // inside 1.weight's raw data
    writeFileSync(onnx, bytes);
    const shard = join(repo, 'face', 'liveness.bin');
    const bin = readFileSync(shard);
    bin.writeFloatLE(42, 1800); // the third weight of liveness.json
    writeFileSync(shard, bin);
    await commitNoMessage(repo, 'wake', ['wake']);
    await commitNoMessage(repo, 'face', ['face']);

    const wake = runCli(repo, ['diff', 'wake@v1', 'wake@v2', '--tensors', '--json']).json().tensors;
    expect(wake.files.map((f: { path: string; changed: string[] }) => [f.path, f.changed])).toEqual([
      ['wake/hey_rhasspy_v0.1.onnx', ['1.weight']],
      ['wake/silero_vad.onnx', []],
    ]);
    expect(wake.counts.changed).toBe(1);
    const face = runCli(repo, ['diff', 'face@v1', 'face@v2', '--tensors', '--json']).json().tensors;
    expect(face.files.find((f: { path: string }) => f.path === 'face/liveness.json').changed).toEqual(['StatefulPartitionedCall/sequential_1/conv2d_2/Conv2D/ReadVariableOp']);
    expect(face.files.find((f: { path: string }) => f.path === 'face/tiny_face_detector_model-weights_manifest.json').changed).toEqual([]);
  });
});
