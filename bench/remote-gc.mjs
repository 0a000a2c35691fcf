// Remote gc at scale (issue 19): a generated directory remote with 10,000 versions of one
// model, each one 100-chunk file (1,000,000 chunks), and a retention policy (keep_last 9000)
// that lets 1,000 versions and their 100,000 chunks go. Measures `gc --remote --dry-run` and
// the real gc (wall time, peak RSS). Targets: dry run ≤ 10 s, gc ≤ 60 s and ≤ 300 MB RSS.
// The remote is generated once under bench/data/remote-gc-v1/ (a few minutes) and restored
// before each measurement (what a previous run deleted is written again).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, DATA, MODELCTL_ENV, WORK, fmtMs, log, modelctl, newRepo, record, run, runWithRss } from './lib.mjs';

const VERSIONS = 10_000;
const CHUNKS_PER_VERSION = 100;
const KEEP_LAST = 9_000;
const RECIPE = 1;

const sha = (s) => createHash('sha256').update(s).digest('hex');
const chunkDigest = (i) => sha(`remote-gc-bench-chunk-${i}`);

/** Canonical JSON (sorted keys, no whitespace), as modelctl writes manifests (docs/design.md §4). */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

function fileDigest(chunks) {
  const h = createHash('sha256').update('modelctl-file-v1').update(Buffer.from([0]));
  for (const d of chunks) h.update(Buffer.from(d, 'hex'));
  return h.digest('hex');
}

/** A real manifest and marker to copy the shapes from. */
function templates(work) {
  const repo = newRepo(join(work, 'template'));
  writeFileSync(join(repo, 'w.bin'), 'template');
  modelctl(['commit', 'm', 'w.bin', '-m', 't', '-q'], { cwd: repo });
  const remote = join(work, 'template-remote');
  rmSync(remote, { recursive: true, force: true });
  modelctl(['push', '--remote', remote, '-q'], { cwd: repo });
  const [id] = readdirSync(join(remote, 'versions'));
  return { manifest: JSON.parse(readFileSync(join(remote, 'versions', id), 'utf8')), marker: readFileSync(join(remote, 'MODELCTL.json')) };
}

const write = (path, body) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, body);
};

/** Writes every object of the recipe the remote lacks (all of them the first time). */
function generate(remote, t) {
  const t0 = Date.now();
  mkdirSync(join(remote, 'chunks'), { recursive: true });
  const haveChunks = new Set(readdirSync(join(remote, 'chunks')));
  const haveVersions = new Set(existsSync(join(remote, 'versions')) ? readdirSync(join(remote, 'versions')) : []);
  write(join(remote, 'MODELCTL.json'), t.marker);
  rmSync(join(remote, 'models', 'm', 'removed'), { recursive: true, force: true });
  rmSync(join(remote, 'gc'), { recursive: true, force: true });
  let written = 0;
  const created = Date.parse('2026-01-01T00:00:00Z');
  for (let v = 1; v <= VERSIONS; v++) {
    const chunks = [];
    for (let c = 0; c < CHUNKS_PER_VERSION; c++) {
      const i = (v - 1) * CHUNKS_PER_VERSION + c;
      const d = chunkDigest(i);
      chunks.push(d);
      if (!haveChunks.has(d)) {
        writeFileSync(join(remote, 'chunks', d), 'x');
        written++;
      }
    }
    const digest = fileDigest(chunks);
    const manifest = { ...t.manifest, files: [{ digest, mode: 0o644, path: 'model.bin', size: CHUNKS_PER_VERSION }], created: new Date(created + v * 1000).toISOString(), message: `v${v}` };
    const bytes = Buffer.from(canonical(manifest));
    const id = sha(bytes);
    if (!haveVersions.has(`${id}.json`)) {
      write(join(remote, 'files', `${digest}.json`), canonical({ chunks: chunks.map((d) => [d, 1]), digest, format: 1, size: CHUNKS_PER_VERSION }));
      write(join(remote, 'versions', `${id}.json`), bytes);
      write(join(remote, 'models', 'm', 'numbers', `${v}.json`), canonical({ version: id }));
      written++;
    }
  }
  if (written) {
    log(`  remote-gc: wrote ${written} objects in ${fmtMs(Date.now() - t0)}`);
    // Restoring what the last gc deleted writes ~100,000 files: let the kernel write them back
    // before anything is timed, so the dry run does not pay for the bench's own set-up.
    run('sync', [], { noCpu: true });
  }
}

export function caseRemoteGc() {
  const work = join(WORK, 'remote-gc');
  mkdirSync(work, { recursive: true });
  const remote = join(DATA, `remote-gc-v${RECIPE}`, 'remote');
  const t = templates(work);
  generate(remote, t);
  const repo = newRepo(join(work, 'gc'));
  modelctl(['remote', 'add', 'origin', remote, '--default', '-q'], { cwd: repo });
  const settings = JSON.parse(readFileSync(join(repo, 'modelctl.json'), 'utf8'));
  settings.models = { m: { retention: { keep_last: KEEP_LAST } } };
  writeFileSync(join(repo, 'modelctl.json'), JSON.stringify(settings, null, 2));
  const env = { ...process.env, ...MODELCTL_ENV };

  const dry = runWithRss(process.execPath, [BIN, 'gc', '--remote', 'origin', '--dry-run', '--grace', '0s', '--json'], { cwd: repo, env });
  const plan = JSON.parse(dry.stdout);
  record({
    id: 'remote-gc',
    name: `gc --remote --dry-run, ${VERSIONS} versions, ${VERSIONS * CHUNKS_PER_VERSION} chunks (directory)`,
    summary: `${fmtMs(dry.ms)}, ${(dry.rssKiB / 1024).toFixed(0)} MiB RSS; would remove ${plan.removedVersions.length} versions, ${plan.deleted.chunks.count} chunks`,
    ms: dry.ms,
    rssKiB: dry.rssKiB,
    target: { text: 'dry run ≤ 10 s', limit: 10_000, value: Math.round(dry.ms), shown: fmtMs(dry.ms) },
  });
  const real = runWithRss(process.execPath, [BIN, 'gc', '--remote', 'origin', '--grace', '0s', '--yes', '--json'], { cwd: repo, env });
  const done = JSON.parse(real.stdout);
  record({
    id: 'remote-gc',
    name: `gc --remote, ${VERSIONS} versions, ${VERSIONS * CHUNKS_PER_VERSION} chunks (directory)`,
    summary: `${fmtMs(real.ms)}, ${(real.rssKiB / 1024).toFixed(0)} MiB RSS; removed ${done.removedVersions.length} versions, deleted ${done.deleted.chunks.count} chunks, ${done.deleted.fileLists.count} file lists, ${done.deleted.manifests.count} manifests`,
    ms: real.ms,
    rssKiB: real.rssKiB,
    target: { text: 'gc ≤ 60 s', limit: 60_000, value: Math.round(real.ms), shown: fmtMs(real.ms) },
  });
  record({
    id: 'remote-gc',
    name: 'gc --remote peak RSS',
    summary: `${(Math.max(dry.rssKiB, real.rssKiB) / 1024).toFixed(0)} MiB`,
    target: { text: '≤ 300 MB RSS', limit: 300_000_000, value: Math.max(dry.rssKiB, real.rssKiB) * 1024, shown: `${(Math.max(dry.rssKiB, real.rssKiB) / 1024).toFixed(0)} MiB` },
  });
}
