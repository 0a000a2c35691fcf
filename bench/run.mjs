#!/usr/bin/env node
// modelctl benchmarks (issue 5): `npm run bench` (full, ~15 min) or `npm run bench -- --quick`
// (smaller data, fewer runs, < 2 min once its data exists). Options: --runs N, --keep
// (leave bench/work/ in place), --no-rgw, --only <ids> with ids from: startup, status,
// commit, commit-small, commit-256, rss, index, signing, tensors, serve, bytes, speed,
// speed-128, folder, rss-transfer (the transfer cases live in bench/transfer.mjs).
//
// Generates its data under bench/data/ (gitignored, reused while its recipe is unchanged),
// works under bench/work/, and writes bench/results/latest.md and latest.json (quick.* with
// --quick, partial.* with --only, so the committed latest.* stays a whole full run): the machine,
// the load, every sample, medians, and each target with its measured ratio, met or not.
// Baselines run in the same session on the same data: openssl dgst -sha256, cp,
// restic backup, rclone copy (to the same S3 servers), `node -e 0`.
import { spawnSync } from 'node:child_process';

import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';

import { loadavg } from 'node:os';
import { join, relative } from 'node:path';

import { buildScaleRepo, timeScaleCommands } from './index-scale.mjs';
import { caseDurability } from './safety.mjs';
import { caseRemoteGc } from './remote-gc.mjs';
import { caseSigning } from './signing.mjs';
import { caseTensors } from './tensors.mjs';
import { caseTransferFixedCost, caseTransferFolder, caseTransferRss, caseTransferSpeed } from './transfer.mjs';
import { caseServe } from './serve.mjs';
import { caseOci } from './oci.mjs';
import { caseStartup } from './startup.mjs';
import { caseCommitMid, caseCommitSmall } from './commits.mjs';

import {
  BIN,
  KEEP,
  MODELCTL_ENV,
  NO_RGW,
  QUICK,
  REPORT_NAME,
  RESULTS,
  ROOT,
  RUNS,
  SHIFT_AT,
  SHIFT_BYTES,
  SIZE,
  WORK,
  changedRegions,
  countingProxy,
  dirBytes,
  fmtBytes,
  fmtMs,
  fresh,
  have,
  log,
  machine,
  median,
  modelctl,
  newRepo,
  prepareData,
  pushAvailable,
  record,
  results,
  run,
  runWithRss,
  samplesOf,
  setReportMeta,
  startRgw,
  startS3rver,
  wanted,
  warm,
  writeReport,
} from './lib.mjs';

// ------------------------------------------------------------------------------ cases

/** Commit of a new big file vs openssl dgst, cp, restic; interleaved so load hits all alike. */
function caseCommitBig(p) {
  log(`\n# commit of a new ${fmtBytes(SIZE.big)} file`);
  warm(p.base);
  const s = { openssl: [], cp: [], commit: [], commit1: [], restic: [] };
  const cpu = { openssl: [], commit: [], commit1: [] };
  for (let i = 0; i < RUNS; i++) {
    const o = run('openssl', ['dgst', '-sha256', p.base]);
    s.openssl.push(o.ms);
    cpu.openssl.push(o.cpuMs);
    const dest = join(WORK, 'cp.bin');
    rmSync(dest, { force: true });
    s.cp.push(run('cp', [p.base, dest]).ms);
    rmSync(dest, { force: true });
    const repo = newRepo(join(WORK, 'commit-big'));
    linkSync(p.base, join(repo, 'model.bin'));
    const c = modelctl(['commit', 'big', 'model.bin', '-m', 'bench', '-q'], { cwd: repo });
    s.commit.push(c.ms);
    cpu.commit.push(c.cpuMs);
    log(`  run ${i + 1}/${RUNS}: openssl ${fmtMs(s.openssl[i])}, cp ${fmtMs(s.cp[i])}, modelctl commit ${fmtMs(s.commit[i])}`);
  }
  // One thread only (MODELCTL_THREADS=1): what the parallel pipeline adds.
  for (let i = 0; i < Math.min(2, RUNS); i++) {
    const repo = newRepo(join(WORK, 'commit-big'));
    linkSync(p.base, join(repo, 'model.bin'));
    const c = modelctl(['commit', 'big', 'model.bin', '-q'], { cwd: repo, env: { MODELCTL_THREADS: '1' } });
    s.commit1.push(c.ms);
    cpu.commit1.push(c.cpuMs);
  }
  if (have('restic')) {
    for (let i = 0; i < (QUICK ? 1 : 3); i++) {
      const repo = fresh(join(WORK, 'restic-repo'));
      const env = { RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: join(WORK, 'restic-cache') };
      run('restic', ['init', '-q'], { env });
      s.restic.push(run('restic', ['backup', '-q', p.base], { env }).ms);
    }
  } else results.notes.push('restic not installed: its baseline was skipped (apt-get install restic).');
  const m = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
  const ratio = m.commit / m.openssl;
  record({
    id: 'commit-big',
    name: `commit of a new ${fmtBytes(SIZE.big)} file`,
    summary: `${fmtMs(m.commit)} vs openssl dgst ${fmtMs(m.openssl)} (${ratio.toFixed(2)}×), cp ${fmtMs(m.cp)}, one thread ${fmtMs(m.commit1)}${m.restic ? `, restic backup ${fmtMs(m.restic)} (${(m.restic / m.openssl).toFixed(1)}×)` : ''}; CPU used: commit ${fmtMs(median(cpu.commit))}, one thread ${fmtMs(median(cpu.commit1))}, openssl ${fmtMs(median(cpu.openssl))}`,
    samplesMs: s,
    cpuMs: cpu,
    mediansMs: m,
    throughputMBps: SIZE.big / 1e6 / (m.commit / 1000),
    target: { text: '≤ 1.0× openssl dgst -sha256', limit: 1, value: Number(ratio.toFixed(3)), shown: `${ratio.toFixed(2)}×` },
  });
}

/** status over 10,000 unchanged files (stat cache), and the commit that stores them. */
function caseStatusSmall(p) {
  log(`\n# status with nothing changed over ${SIZE.smallFiles} files`);
  // Kept between bench runs (like the index): storing 10,000 files takes a while.
  const repo = join(WORK, `status-repo-${SIZE.smallFiles}`);
  let commit = existsSync(join(repo, 'built.json')) ? JSON.parse(readFileSync(join(repo, 'built.json'), 'utf8')) : null;
  if (commit) log('  reusing the repository built earlier');
  else {
    newRepo(repo);
    // Hard links: same bytes, no copy; the repository sees ordinary files.
    for (const d of readdirSync(p.small)) {
      mkdirSync(join(repo, 'files', d), { recursive: true });
      for (const f of readdirSync(join(p.small, d))) linkSync(join(p.small, d, f), join(repo, 'files', d, f));
    }
    const cfg = JSON.parse(readFileSync(join(repo, 'modelctl.json'), 'utf8'));
    cfg.models = { ...(cfg.models ?? {}), files: { paths: ['files'] } };
    writeFileSync(join(repo, 'modelctl.json'), JSON.stringify(cfg, null, 2));
    // The files' stat must be older than the racy-clean window (2 s) to be cached.
    spawnSync('sleep', ['2.2']);
    const r = modelctl(['commit', 'files', '-m', 'small files', '--json'], { cwd: repo });
    commit = { ms: r.ms, hashedFiles: JSON.parse(r.stdout).hashedFiles };
    writeFileSync(join(repo, 'built.json'), JSON.stringify(commit));
  }
  const hashed = commit.hashedFiles;
  modelctl(['status', 'files'], { cwd: repo }); // warm the page cache and index
  let rehashed = -1;
  const samples = samplesOf(Math.max(RUNS, 7), () => {
    const r = modelctl(['status', 'files', '--json'], { cwd: repo, noCpu: true });
    rehashed = JSON.parse(r.stdout).models[0].rehashed;
    return r.ms;
  });
  const m = median(samples);
  record({
    id: 'status-small',
    name: `status, nothing changed, ${SIZE.smallFiles} files`,
    summary: `${fmtMs(m)} (files re-read: ${rehashed}); the commit that stored them took ${fmtMs(commit.ms)} (${hashed} files hashed and stored)`,
    samplesMs: samples,
    medianMs: m,
    rehashed,
    commitMs: commit.ms,
    target: { text: '≤ 0.2 s', limit: 200, value: Number(m.toFixed(1)), shown: fmtMs(m) },
  });
}

/** Peak RSS while committing a 10 GiB random file. */
function caseRssCommit(p) {
  if (!p.hugeRandom) return;
  log(`\n# peak RSS committing a ${fmtBytes(SIZE.huge)} file`);
  const repo = newRepo(join(WORK, 'rss-commit'));
  linkSync(p.hugeRandom, join(repo, 'huge.bin'));
  warm(p.hugeRandom);
  const r = runWithRss(process.execPath, [BIN, 'commit', 'huge', 'huge.bin', '-q'], { cwd: repo, env: MODELCTL_ENV });
  rmSync(repo, { recursive: true, force: true });
  const mb = (r.rssKiB * 1024) / 1e6;
  record({
    id: 'rss-commit',
    name: `peak RSS, commit of a ${fmtBytes(SIZE.huge)} random file`,
    summary: `${mb.toFixed(0)} MB in ${fmtMs(r.ms)} (${(SIZE.huge / 1e6 / (r.ms / 1000)).toFixed(0)} MB/s)`,
    rssMB: mb,
    ms: r.ms,
    target: { text: '≤ 200 MB', limit: 200, value: Number(mb.toFixed(1)), shown: `${mb.toFixed(0)} MB` },
  });
}

async function caseIndexScale() {
  log(`\n# index with ${SIZE.versions} versions`);
  const dir = join(WORK, `index-scale-${SIZE.versions}`);
  let built;
  if (existsSync(join(dir, '.modelctl', 'index.db')) && existsSync(join(dir, 'built.json'))) {
    built = JSON.parse(readFileSync(join(dir, 'built.json'), 'utf8'));
    log('  reusing the index built earlier');
  } else {
    built = await buildScaleRepo({ dir, versions: SIZE.versions, log: (s) => (/ (\d*000) \//.test(s) ? log(s) : undefined) });
    writeFileSync(join(dir, 'built.json'), JSON.stringify(built));
  }
  const t = await timeScaleCommands({ root: dir, versions: SIZE.versions, runs: QUICK ? 7 : 15 });
  for (const c of t.cases) {
    record({
      id: `index-${c.name.split(' ')[0]}`,
      name: `${c.name} at ${SIZE.versions} versions / ${built.chunkRows} chunk rows`,
      summary: `CLI ${fmtMs(c.cliMedianMs)} (node -e 0: ${fmtMs(t.nodeStartMedianMs)}), in-process ${fmtMs(c.apiMedianMs)}`,
      cliMedianMs: c.cliMedianMs,
      apiMedianMs: c.apiMedianMs,
      nodeStartMedianMs: t.nodeStartMedianMs,
      target: { text: '≤ 100 ms (whole CLI command)', limit: 100, value: Number(c.cliMedianMs.toFixed(1)), shown: fmtMs(c.cliMedianMs) },
    });
  }
}

// -------------------------------------------------------------------------- transfers

/** Bytes re-sent by push for the 10%-changed and 1,000-byte-shift variants, to a folder remote and through a counting proxy to S3. */
async function caseTransferBytes(p, s3) {
  log('\n# push after a change: bytes sent');
  const changedBytes = changedRegions(SIZE.big).reduce((s, r) => s + r.length, 0);
  const variants = [
    { id: 'changed', file: p.changed, what: `10% changed in 20 regions (${fmtBytes(changedBytes)})`, limitOf: (sent) => sent / changedBytes, limit: 1.15, text: '≤ 1.15× the changed bytes' },
    { id: 'shifted', file: p.shifted, what: `${SHIFT_BYTES} bytes inserted at ${SHIFT_AT}`, limitOf: (sent) => sent / SIZE.big, limit: 0.01, text: '< 1% of the file re-sent' },
  ];
  const remotes = [{ name: 'folder remote', kind: 'dir' }];
  if (s3 && !QUICK) remotes.push({ name: `${s3.name} via counting proxy`, kind: 's3' });
  for (const rem of remotes) {
    for (const v of variants) {
      const repo = newRepo(join(WORK, 'push-bytes'));
      linkSync(p.base, join(repo, 'model.bin'));
      let proxy;
      let env = {};
      let measure;
      if (rem.kind === 'dir') {
        const target = fresh(join(WORK, 'push-bytes-remote'));
        modelctl(['remote', 'add', 'bench', target], { cwd: repo });
        measure = () => dirBytes(join(target, 'chunks')) + dirBytes(join(target, 'files')) + dirBytes(join(target, 'versions'));
      } else {
        proxy = await countingProxy(s3.endpoint);
        const prefix = `bytes-${v.id}-${Date.now()}`;
        modelctl(['remote', 'add', 'bench', `s3://${s3.bucket}/${prefix}`, '--endpoint', proxy.url], { cwd: repo });
        env = s3.env;
        measure = async () => {
          const c = await proxy.counts();
          return c.PUT + c.POST;
        };
      }
      modelctl(['commit', 'm', 'model.bin', '-m', 'base', '-q'], { cwd: repo });
      modelctl(['push', 'm', '--remote', 'bench', '-q'], { cwd: repo, env });
      const before = await measure();
      rmSync(join(repo, 'model.bin'));
      linkSync(v.file, join(repo, 'model.bin'));
      modelctl(['commit', 'm', 'model.bin', '-m', v.id, '-q'], { cwd: repo });
      const pushed = JSON.parse(modelctl(['push', 'm', '--remote', 'bench', '--json'], { cwd: repo, env }).stdout);
      const sent = (await measure()) - before;
      if (proxy) await proxy.close();
      const value = v.limitOf(sent);
      record({
        id: `push-bytes-${v.id}-${rem.kind}`,
        name: `push after ${v.what}, ${rem.name}`,
        summary: `${fmtBytes(sent)} sent (${v.id === 'changed' ? `${value.toFixed(3)}× the changed bytes` : `${(value * 100).toFixed(3)}% of the file`}; push reported ${fmtBytes(pushed.bytesUploaded)} in ${pushed.chunks.uploaded} chunks)`,
        bytesSent: sent,
        pushReportedBytes: pushed.bytesUploaded,
        chunksUploaded: pushed.chunks.uploaded,
        target: { text: v.text, limit: v.limit, value: Number(value.toFixed(5)), shown: v.id === 'changed' ? `${value.toFixed(3)}×` : `${(value * 100).toFixed(3)}%` },
      });
    }
  }
}

// -------------------------------------------------------------------------------- main

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm run bench does)');
  const started = Date.now();
  const loadStart = loadavg().map((x) => Number(x.toFixed(2)));
  const meta = { mode: QUICK ? 'quick' : 'full', runs: RUNS, sizes: SIZE, machine: machine(), loadStart };
  setReportMeta({ ...meta, started });
  log(`modelctl bench (${meta.mode}): ${meta.machine.cores} cores, ${meta.machine.cpu}; load ${loadStart.join(' ')}`);
  mkdirSync(WORK, { recursive: true });
  const p = prepareData();

  // Each case's work folder goes when the case is done (a full run's folders add up to more
  // than 60 GB: a run once ended with a full disk), except the reused scale repositories and
  // the running servers' data.
  const sweep = (...inUse) => {
    if (KEEP) return;
    for (const d of readdirSync(WORK)) if (!/^(index-scale|status-repo)-/.test(d) && !inUse.includes(d)) rmSync(join(WORK, d), { recursive: true, force: true });
  };
  const step = async (id, fn, ...inUse) => {
    if (!wanted(id)) return;
    await fn();
    sweep(...inUse);
  };
  await step('startup', () => caseStartup());
  await step('commit-small', () => caseCommitSmall());
  await step('commit-256', () => caseCommitMid());
  await step('status', () => caseStatusSmall(p));
  await step('commit', () => caseCommitBig(p));
  await step('rss', () => caseRssCommit(p));
  await step('index', () => caseIndexScale());
  await step('signing', () => caseSigning(p));
  await step('tensors', () => caseTensors());
  await step('serve', () => caseServe(p));
  await step('durability', () => caseDurability());
  await step('remote-gc', () => caseRemoteGc());
  await step('oci', () => caseOci(p));

  const transfers = ['bytes', 'speed', 'speed-128', 'folder', 'rss-transfer'].some(wanted);
  if (transfers && !pushAvailable()) {
    results.notes.push('push/pull are not available in this build: transfer cases skipped.');
  } else if (transfers) {
    const bucket = 'modelctl-bench';
    const s3 = await startS3rver(bucket);
    try {
      await step('bytes', () => caseTransferBytes(p, s3), 's3rver');
      if (!have('rclone')) results.notes.push('rclone not installed: throughput baselines skipped (apt-get install rclone).');
      else {
        await step('speed', () => caseTransferSpeed(p, s3), 's3rver');
        await step('speed-128', () => caseTransferFixedCost(s3), 's3rver');
        await step('folder', () => caseTransferFolder(s3), 's3rver');
      }
    } finally {
      await s3.stop();
    }
    if (wanted('speed') && have('rclone') && !NO_RGW && !QUICK && have('radosgw')) {
      const rgw = await startRgw(bucket);
      if (rgw) {
        try {
          caseTransferSpeed(p, rgw);
        } finally {
          await rgw.stop();
        }
        sweep();
      }
    } else if (wanted('speed') && !have('radosgw')) {
      results.notes.push('Ceph RGW not installed: RGW throughput cases skipped.');
    }
    await step('rss-transfer', () => caseTransferRss(p));
  }

  const finishedAt = new Date().toISOString();
  writeReport({ ...meta, finishedAt, durationS: (Date.now() - started) / 1000, loadEnd: loadavg().map((x) => Number(x.toFixed(2))) });
  if (!KEEP) {
    for (const d of readdirSync(WORK)) if (!/^(index-scale|status-repo)-/.test(d)) rmSync(join(WORK, d), { recursive: true, force: true });
  }
  log(`\nwrote ${relative(process.cwd(), join(RESULTS, `${REPORT_NAME}.md`))} and ${REPORT_NAME}.json (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exit(1);
});
