// Tensor benchmarks (issue 18): `show --tensors` on a 2 GiB safetensors file against the same
// `show` without it (start-up, index and manifest: the cost "beyond start-up" is the difference),
// and `diff --tensors` after a fine-tune touching 1% of the file, reporting the bytes it read.
// Registered in bench/run.mjs as `--only tensors`.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GiB, MiB, QUICK, RUNS, WORK, fmtBytes, fmtMs, keystream, log, median, modelctl, newRepo, record } from './lib.mjs';

const SIZE = QUICK ? 256 * MiB : 2 * GiB;
/** Tensor size: a 4096 × 256 f32 matrix (4 MiB), 512 of them in 2 GiB. */
const ROWS = 4096;
const COLS = 256;
const TENSOR_BYTES = ROWS * COLS * 4;

/** A safetensors file of SIZE bytes of deterministic random tensors; `changed` tensors get other bytes. */
function writeSafetensors(path, changed = new Set()) {
  const count = Math.floor((SIZE - 64 * 1024) / TENSOR_BYTES);
  const header = {};
  for (let i = 0; i < count; i++) header[`model.layers.${i}.weight`] = { dtype: 'F32', shape: [ROWS, COLS], data_offsets: [i * TENSOR_BYTES, (i + 1) * TENSOR_BYTES] };
  header.__metadata__ = { format: 'pt' };
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.concat([len, json]));
    const same = keystream('tensors-base');
    const other = keystream('tensors-changed');
    for (let i = 0; i < count; i++) {
      const bytes = same(TENSOR_BYTES);
      writeSync(fd, changed.has(i) ? other(TENSOR_BYTES) : bytes);
    }
  } finally {
    closeSync(fd);
  }
  return { count, bytes: 8 + json.length + count * TENSOR_BYTES };
}

/** show --tensors and diff --tensors on a big safetensors file. */
export function caseTensors() {
  log(`\n# show --tensors and diff --tensors on a ${fmtBytes(SIZE)} safetensors file`);
  const repo = newRepo(join(WORK, 'tensors'));
  const file = join(repo, 'llm', 'model.safetensors');
  mkdirSync(join(repo, 'llm'), { recursive: true });
  const base = writeSafetensors(file);
  modelctl(['commit', 'llm', 'llm', '-m', 'base', '-q'], { cwd: repo });
  // A fine-tune that touches 1% of the bytes: whole tensors spread over the file.
  const changedCount = Math.max(1, Math.round((base.count * 0.01)));
  const changed = new Set(Array.from({ length: changedCount }, (_, i) => Math.floor(((i + 0.5) * base.count) / changedCount)));
  writeSafetensors(file, changed);
  modelctl(['commit', 'llm', 'llm', '-m', 'fine-tune', '-q'], { cwd: repo });

  // Interleaved, so load from elsewhere hits both alike; CPU time (GNU time) is reported too,
  // being far less sensitive to a loaded machine than wall time.
  const s = { show: [], tensors: [] };
  const cpu = { show: [], tensors: [] };
  const runs = Math.max(RUNS * 2, 10);
  for (let i = 0; i < runs + 1; i++) {
    const plain = modelctl(['show', 'llm@v2', '--json'], { cwd: repo });
    const tables = modelctl(['show', 'llm@v2', '--tensors', '--json'], { cwd: repo });
    if (i === 0) {
      const shown = JSON.parse(tables.stdout);
      if (shown.tensors[0].tensors.length !== base.count) throw new Error(`show --tensors listed ${shown.tensors[0].tensors.length} tensors, expected ${base.count}`);
      continue; // warm-up
    }
    s.show.push(plain.ms);
    s.tensors.push(tables.ms);
    cpu.show.push(plain.cpuMs);
    cpu.tensors.push(tables.cpuMs);
  }
  const m = { show: median(s.show), tensors: median(s.tensors) };
  const c = { show: median(cpu.show), tensors: median(cpu.tensors) };
  const beyond = m.tensors - m.show;
  record({
    id: 'tensors-show',
    name: `show --tensors, ${fmtBytes(base.bytes)} safetensors (${base.count} tensors)`,
    summary: `${fmtMs(m.tensors)} vs show ${fmtMs(m.show)}: ${fmtMs(beyond)} beyond start-up (wall, median of ${runs}); CPU ${fmtMs(c.tensors)} vs ${fmtMs(c.show)}: ${fmtMs(c.tensors - c.show)} more`,
    samplesMs: s,
    cpuMs: cpu,
    mediansMs: m,
    cpuMediansMs: c,
    target: { text: '≤ 50 ms beyond start-up (show without --tensors)', limit: 50, value: Number(beyond.toFixed(1)), shown: fmtMs(beyond) },
  });

  const d = modelctl(['diff', 'llm@v1', 'llm@v2', '--tensors', '--json'], { cwd: repo, noCpu: true });
  const t = JSON.parse(d.stdout).tensors;
  const [f] = t.files;
  if (f.changed.length !== changed.size || f.counts.unchanged !== base.count - changed.size) {
    throw new Error(`diff --tensors found ${f.changed.length} changed and ${f.counts.unchanged} unchanged tensors, expected ${changed.size} and ${base.count - changed.size}`);
  }
  const share = t.bytesRead / base.bytes;
  record({
    id: 'tensors-diff',
    name: `diff --tensors after a change to ${changed.size} of ${base.count} tensors (${((changed.size * TENSOR_BYTES * 100) / base.bytes).toFixed(2)}% of the bytes)`,
    summary: `${fmtMs(d.ms)}; read ${fmtBytes(t.bytesRead)} of the ${fmtBytes(base.bytes)} file (both versions together: ${(share * 100).toFixed(2)}%), ${fmtBytes(t.bytesCompared)} of it compared byte for byte; ${f.comparedExactly} tensors needed bytes compared`,
    ms: d.ms,
    bytesRead: t.bytesRead,
    bytesCompared: t.bytesCompared,
    fileBytes: base.bytes,
    comparedExactly: f.comparedExactly,
    target: { text: 'reads ≤ 5% of the file', limit: 5, value: Number((share * 100).toFixed(3)), shown: `${(share * 100).toFixed(2)}%` },
  });
}
