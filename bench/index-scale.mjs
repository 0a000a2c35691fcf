// Builds a repository whose index holds N versions (default 10,000) and about 100 chunk
// rows per version (1,000,000 at the default), through the store functions commit uses
// (insertVersion, recordObject, appendEvent, setTag, moveStage), then times `log -n 20`,
// `show` and `ls` in-process (the index work) and as CLI processes (what a user waits for).
//
//   node bench/index-scale.mjs [--versions N] [--dir path] [--runs R]
//
// Used by bench/run.mjs; also runnable alone (after `npm run build`).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'modelctl.js');

let sources;
/**
 * The store and api modules this script drives, bundled from src/ by esbuild into
 * bench/work/ (dist/ holds only the CLI and API bundles, not one file per module).
 */
async function internals() {
  if (sources) return sources;
  const { build } = await import('esbuild');
  const outfile = join(ROOT, 'bench', 'work', 'index-scale-internals.mjs');
  const modules = ['api/init', 'api/repository', 'api/log', 'api/show', 'api/ls', 'store/index-db', 'store/version-records', 'store/events-table', 'store/tags-table', 'store/stages-table', 'core/events', 'core/manifest'];
  await build({
    stdin: { contents: modules.map((m) => `export * from './${m}.ts';`).join('\n'), resolveDir: join(ROOT, 'src'), loader: 'ts' },
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['better-sqlite3'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  sources = await import(pathToFileURL(outfile).href);
  return sources;
}

const MODEL = 'scale-model';
const FILES_PER_VERSION = 4;
const CHUNKS_PER_NEW_FILE = 100;

const sha = (s) => createHash('sha256').update(s).digest('hex');

/** Creates the repository and fills its index; returns { root, versions, chunkRows, seconds }. */
export async function buildScaleRepo({ dir, versions = 10_000, log = () => {} }) {
  const { init, openRepository, writeTransaction, ensureModel, insertVersion, recordObject, appendEvent, setTag, moveStage, buildEvent, FORMAT_VERSION, serializeManifest, manifestId, versionIdentity } =
    await internals();

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  init({ cwd: dir });
  const repo = await openRepository({ cwd: dir });
  let chunkRows = 0;
  try {
    const files = new Map(); // path -> { digest, size }
    const batch = 500;
    for (let from = 1; from <= versions; from += batch) {
      writeTransaction(repo.db, () => {
        const modelId = ensureModel(repo.db, MODEL);
        for (let n = from; n < Math.min(from + batch, versions + 1); n++) {
          // Each version changes one of its files: a new 100-chunk object.
          const path = `model/part-${n % FILES_PER_VERSION}.bin`;
          const digest = sha(`file-${n}`);
          const chunks = Array.from({ length: CHUNKS_PER_NEW_FILE }, (_, i) => ({ digest: sha(`chunk-${n}-${i}`), offset: i * 1_100_000, length: 1_100_000 }));
          recordObject(repo.db, digest, CHUNKS_PER_NEW_FILE * 1_100_000, chunks);
          chunkRows += chunks.length;
          files.set(path, { path, size: CHUNKS_PER_NEW_FILE * 1_100_000, mode: 0o644, digest });
          const manifest = {
            format: FORMAT_VERSION,
            model: MODEL,
            files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
            lineage: {
              code: { commit: sha(`c${n}`).slice(0, 40), branch: 'main', dirty: false, diffHash: null, remote: null, root: dir },
              data: [{ kind: 'uri', source: `s3://datasets/train-${n % 7}.parquet` }],
              params: { lr: 0.001 * (n % 10), epochs: 3 + (n % 5), batch: 64 },
              metrics: { accuracy: 0.8 + (n % 100) / 1000, loss: 1 / n, f1: 0.7 + (n % 50) / 500 },
              parent: null,
              environment: { modelctl: '0.1.0', node: process.version, os: 'linux', hostname: 'bench', user: 'bench', ci: null },
              argv: ['commit', MODEL],
            },
            created: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
            author: 'bench@example.com',
            message: `version ${n}`,
          };
          const bytes = serializeManifest(manifest);
          const id = manifestId(bytes);
          // Bench data: written without the store's fsync per file (10,000 fsyncs would
          // only measure the disk); same path and bytes as ObjectStore.writeManifest.
          const mpath = repo.store.manifestPath(id);
          mkdirSync(dirname(mpath), { recursive: true });
          writeFileSync(mpath, bytes, { mode: 0o444 });
          insertVersion(repo.db, { id, manifest, number: n, identity: versionIdentity(manifest) });
          appendEvent(
            repo.db,
            buildEvent({ actor: 'bench', host: 'bench', action: 'commit', model: MODEL, version: id, from: null, to: `v${n}`, reason: null, argv: [], data: { number: n } }),
          );
          if (n % 100 === 0) setTag(repo.db, { modelId, model: MODEL, name: `rel-${n}`, versionId: id, message: null, actor: 'bench', force: false });
          if (n % 250 === 0) {
            const e = buildEvent({ actor: 'bench', host: 'bench', action: 'promote', model: MODEL, version: id, from: null, to: 'staging', reason: null, argv: [], data: {} });
            appendEvent(repo.db, e);
            moveStage(repo.db, { modelId, stage: 'staging', versionId: id, eventId: e.id, at: e.at });
          }
          if (n % 1000 === 0) {
            const e = buildEvent({ actor: 'bench', host: 'bench', action: 'promote', model: MODEL, version: id, from: null, to: 'production', reason: null, argv: [], data: {} });
            appendEvent(repo.db, e);
            moveStage(repo.db, { modelId, stage: 'production', versionId: id, eventId: e.id, at: e.at });
          }
        }
      });
      log(`  index: ${Math.min(from + batch - 1, versions)} / ${versions} versions`);
    }
  } finally {
    repo.close();
  }
  return { root: dir, versions, chunkRows, seconds: (Date.now() - started) / 1000 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Times the three commands in-process (ms per call, warm) and as CLI processes (ms wall). */
export async function timeScaleCommands({ root, versions, runs = 15 }) {
  const { log, show, ls } = await internals();
  const mid = Math.ceil(versions / 2);
  const cases = [
    { name: 'log -n 20', api: () => log({ cwd: root, model: MODEL, limit: 20 }), cli: ['log', MODEL, '-n', '20', '--json'] },
    { name: `show ${MODEL}@v${mid}`, api: () => show({ cwd: root, ref: `${MODEL}@v${mid}` }), cli: ['show', `${MODEL}@v${mid}`, '--json'] },
    { name: `show ${MODEL}@production`, api: () => show({ cwd: root, ref: `${MODEL}@production` }), cli: ['show', `${MODEL}@production`, '--json'] },
    { name: 'ls', api: () => ls({ cwd: root }), cli: ['ls', '--json'] },
  ];
  const out = [];
  for (const c of cases) {
    await c.api(); // warm the page cache and the JIT
    const apiMs = [];
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint();
      await c.api();
      apiMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const cliMs = [];
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint();
      execFileSync(process.execPath, [BIN, ...c.cli], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      cliMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    out.push({ name: c.name, apiMedianMs: median(apiMs), cliMedianMs: median(cliMs) });
  }
  const nodeMs = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    execFileSync(process.execPath, ['-e', '0']);
    nodeMs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { cases: out, nodeStartMedianMs: median(nodeMs) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const versions = Number(arg('--versions', '10000'));
  const dir = arg('--dir', join(ROOT, 'bench', 'work', 'index-scale'));
  const runs = Number(arg('--runs', '15'));
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first');
  const built = await buildScaleRepo({ dir, versions, log: (s) => process.stderr.write(`${s}\n`) });
  console.log(`built ${built.versions} versions, ${built.chunkRows} chunk rows in ${built.seconds.toFixed(1)} s`);
  const t = await timeScaleCommands({ root: dir, versions, runs });
  console.log(`node -e 0: ${t.nodeStartMedianMs.toFixed(1)} ms`);
  for (const c of t.cases) console.log(`${c.name.padEnd(28)} in-process ${c.apiMedianMs.toFixed(1).padStart(7)} ms   CLI ${c.cliMedianMs.toFixed(1).padStart(7)} ms`);
}
