// Transfer benchmarks (issues 11 and 13): push and pull against `rclone copy` of the same
// bytes to the same server, measured in the same run, interleaved so load hits both alike.
//   speed       one file of SIZE.transfer (1 GiB full, 128 MiB quick), s3rver and Ceph RGW
//   speed-128   one file of 128 MiB on s3rver, where fixed costs (start-up, SDK set-up,
//               threads) weigh most (issue 13); the quick mode's `speed` is this case already
//   folder      10,000 files of 4–64 KiB, s3rver: push and pull vs rclone copy of the folder
//   rss-transfer peak RSS pushing and pulling a 10 GiB file (folder remote)
// Each transfer figure is printed with the CPU seconds per GiB of modelctl and of rclone
// (user + system, threads and children included, by GNU time), and the spread of the runs.
import { existsSync, linkSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN,
  DATA,
  GiB,
  MODELCTL_ENV,
  MiB,
  QUICK,
  SIZE,
  WORK,
  dirBytes,
  fmtBytes,
  fmtMs,
  fresh,
  keystream,
  log,
  median,
  modelctl,
  newRepo,
  rcloneEnv,
  record,
  run,
  runWithRss,
  warm,
  writeRandomFile,
} from './lib.mjs';

/** rclone with wall and CPU time (GNU time), like modelctl() measures modelctl. */
function rcloneTimed(server, args) {
  // run() starts from process.env: an undefined value keeps AWS_CA_BUNDLE out (rclone 1.60 fails with it).
  return run('rclone', ['--config', '/dev/null', ...args], { env: { ...rcloneEnv(server), AWS_CA_BUNDLE: undefined } });
}

const cpuPerGiB = (cpuMs, bytes) => (Number.isFinite(cpuMs) ? `${(cpuMs / 1000 / (bytes / GiB)).toFixed(2)} CPU s/GiB` : 'CPU n/a');
const spread = (xs) => `${fmtMs(Math.min(...xs))}–${fmtMs(Math.max(...xs))}`;

/**
 * Records push and pull against rclone up and down from samples of { ms, cpuMs }:
 * medians, ratio of throughputs (same bytes, so the inverse ratio of times), spread, CPU.
 */
function recordPair(idBase, what, bytes, s) {
  const med = (xs, k) => median(xs.map((x) => x[k]));
  const mbps = (ms) => bytes / 1e6 / (ms / 1000);
  for (const dir of ['push', 'pull']) {
    const ours = s[dir];
    const theirs = dir === 'push' ? s.rcloneUp : s.rcloneDown;
    const [oMs, tMs] = [med(ours, 'ms'), med(theirs, 'ms')];
    const [oCpu, tCpu] = [med(ours, 'cpuMs'), med(theirs, 'cpuMs')];
    const ratio = tMs / oMs;
    record({
      id: `${dir}-${idBase}`,
      name: `${dir} of ${what}`,
      summary:
        `${mbps(oMs).toFixed(0)} MB/s (${fmtMs(oMs)}, runs ${spread(ours.map((x) => x.ms))}, ${cpuPerGiB(oCpu, bytes)}) ` +
        `vs rclone copy ${mbps(tMs).toFixed(0)} MB/s (${fmtMs(tMs)}, runs ${spread(theirs.map((x) => x.ms))}, ${cpuPerGiB(tCpu, bytes)})`,
      samples: { modelctl: ours, rclone: theirs },
      mediansMs: { modelctl: oMs, rclone: tMs },
      cpuSecondsPerGiB: { modelctl: oCpu / 1000 / (bytes / GiB), rclone: tCpu / 1000 / (bytes / GiB) },
      target: { text: '≥ 1.0× rclone copy throughput', limit: 1, atLeast: true, value: Number(ratio.toFixed(3)), shown: `${ratio.toFixed(2)}× rclone` },
    });
  }
}

/** One file of `bytes` at `file`: push and pull vs rclone copyto, `runs` times, interleaved. */
function transferFile(server, file, bytes, runs, idBase) {
  log(`\n# push / pull ${fmtBytes(bytes)} vs rclone copy, ${server.name}`);
  const s = { push: [], pull: [], rcloneUp: [], rcloneDown: [] };
  warm(file);
  for (let i = 0; i < runs; i++) {
    const prefix = `speed-${Date.now()}-${i}`;
    s.rcloneUp.push(rcloneTimed(server, ['copyto', file, `bench:${server.bucket}/${prefix}/rclone.bin`]));
    const down = fresh(join(WORK, 'rclone-down'));
    s.rcloneDown.push(rcloneTimed(server, ['copyto', `bench:${server.bucket}/${prefix}/rclone.bin`, join(down, 'rclone.bin')]));
    rmSync(down, { recursive: true, force: true });
    // modelctl: commit (not timed), push, then pull into a folder with no repository
    const repo = newRepo(join(WORK, 'push-speed'));
    linkSync(file, join(repo, 'model.bin'));
    modelctl(['commit', 'speed', 'model.bin', '-q'], { cwd: repo });
    const url = `s3://${server.bucket}/${prefix}/registry`;
    modelctl(['remote', 'add', 'bench', url, '--endpoint', server.endpoint], { cwd: repo });
    s.push.push(modelctl(['push', 'speed', '--remote', 'bench', '-q'], { cwd: repo, env: server.env }));
    const out = fresh(join(WORK, 'pull-out'));
    s.pull.push(modelctl(['pull', 'speed@latest', '--remote', url, '--out', out, '-q'], { cwd: WORK, env: { ...server.env, AWS_ENDPOINT_URL_S3: server.endpoint } }));
    log(`  run ${i + 1}/${runs}: push ${fmtMs(s.push[i].ms)} (rclone ${fmtMs(s.rcloneUp[i].ms)}), pull ${fmtMs(s.pull[i].ms)} (rclone ${fmtMs(s.rcloneDown[i].ms)})`);
    rmSync(out, { recursive: true, force: true });
    rmSync(repo, { recursive: true, force: true });
    // Free what the server can free before the next run (s3rver: disk; RGW: memory).
    rcloneTimed(server, ['purge', `bench:${server.bucket}/${prefix}`]);
  }
  recordPair(`${idBase}-${server.name.split(' ').pop().toLowerCase()}`, `${fmtBytes(bytes)}, ${server.name}`, bytes, s);
}

/** push and pull of the transfer file (SIZE.transfer) against rclone copy, same server. */
export function caseTransferSpeed(p, server) {
  transferFile(server, p.transfer, SIZE.transfer, QUICK ? 2 : 3, 'speed');
}

/** The 128 MiB case of issue 13 (fixed costs): the quick mode's `speed` case is it already. */
export function caseTransferFixedCost(server) {
  if (SIZE.transfer === 128 * MiB) return;
  const file = join(DATA, `transfer-${128 * MiB}.bin`);
  if (!existsSync(file)) writeRandomFile(file, 128 * MiB, 'transfer');
  transferFile(server, file, 128 * MiB, 3, 'speed-128');
}

const FOLDER_FILES = 10_000;
const FOLDER_RECIPE = 1;

/** 10,000 files of 4–64 KiB in 100 folders (deterministic; generated once under bench/data/). */
function folderData() {
  const dir = join(DATA, `folder-${FOLDER_FILES}-4-64KiB-v${FOLDER_RECIPE}`);
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return dir;
  fresh(dir);
  const next = keystream('folder');
  for (let i = 0; i < FOLDER_FILES; i++) {
    const d = join(dir, `d${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) mkdirSync(d, { recursive: true });
    // 4 KiB to 64 KiB, spread evenly by a stride prime to the range.
    writeFileSync(join(d, `f${i}.bin`), next(4096 + ((i * 7919) % (60 * 1024 + 1))));
  }
  writeFileSync(marker, '');
  return dir;
}

/** A folder of 10,000 small files: push and pull vs rclone copy of the folder, same server. */
export function caseTransferFolder(server) {
  const src = folderData();
  const bytes = dirBytes(src);
  const runs = QUICK ? 1 : 2;
  log(`\n# push / pull ${FOLDER_FILES} files (${fmtBytes(bytes)}) vs rclone copy of the folder, ${server.name}`);
  const s = { push: [], pull: [], rcloneUp: [], rcloneDown: [] };
  for (let i = 0; i < runs; i++) {
    const prefix = `folder-${Date.now()}-${i}`;
    s.rcloneUp.push(rcloneTimed(server, ['copy', src, `bench:${server.bucket}/${prefix}/rclone`]));
    const down = fresh(join(WORK, 'rclone-folder-down'));
    s.rcloneDown.push(rcloneTimed(server, ['copy', `bench:${server.bucket}/${prefix}/rclone`, down]));
    rmSync(down, { recursive: true, force: true });
    const repo = newRepo(join(WORK, 'push-folder'));
    // Hard links: the commit reads the same bytes without copying 340 MB each run.
    for (const d of readdirNames(src)) {
      mkdirSync(join(repo, 'model', d), { recursive: true });
      for (const f of readdirNames(join(src, d))) linkSync(join(src, d, f), join(repo, 'model', d, f));
    }
    modelctl(['commit', 'folder', 'model/', '-q'], { cwd: repo });
    const url = `s3://${server.bucket}/${prefix}/registry`;
    modelctl(['remote', 'add', 'bench', url, '--endpoint', server.endpoint], { cwd: repo });
    s.push.push(modelctl(['push', 'folder', '--remote', 'bench', '-q'], { cwd: repo, env: server.env }));
    const out = fresh(join(WORK, 'pull-folder-out'));
    s.pull.push(modelctl(['pull', 'folder@latest', '--remote', url, '--out', out, '-q'], { cwd: WORK, env: { ...server.env, AWS_ENDPOINT_URL_S3: server.endpoint } }));
    log(`  run ${i + 1}/${runs}: push ${fmtMs(s.push[i].ms)} (rclone ${fmtMs(s.rcloneUp[i].ms)}), pull ${fmtMs(s.pull[i].ms)} (rclone ${fmtMs(s.rcloneDown[i].ms)})`);
    rmSync(out, { recursive: true, force: true });
    rmSync(repo, { recursive: true, force: true });
    rcloneTimed(server, ['purge', `bench:${server.bucket}/${prefix}`]);
  }
  recordPair(`folder-${server.name.split(' ').pop().toLowerCase()}`, `${FOLDER_FILES} files of 4–64 KiB (${fmtBytes(bytes)}), ${server.name}`, bytes, s);
}

/** Names in `dir`, sorted, without dot files (the data's completion marker). */
function readdirNames(dir) {
  return readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
}

/** Peak RSS pushing and pulling the 10 GiB random file (folder remote: the disk, not a server, is the limit). */
export function caseTransferRss(p) {
  if (!p.hugeRandom) return;
  log(`\n# peak RSS pushing and pulling ${fmtBytes(SIZE.huge)}`);
  const repo = newRepo(join(WORK, 'rss-push'));
  linkSync(p.hugeRandom, join(repo, 'huge.bin'));
  modelctl(['commit', 'huge', 'huge.bin', '-q'], { cwd: repo });
  const target = fresh(join(WORK, 'rss-remote'));
  modelctl(['remote', 'add', 'bench', target], { cwd: repo });
  const up = runWithRss(process.execPath, [BIN, 'push', 'huge', '--remote', 'bench', '-q'], { cwd: repo, env: MODELCTL_ENV });
  rmSync(repo, { recursive: true, force: true });
  const out = fresh(join(WORK, 'rss-pull-out'));
  const down = runWithRss(process.execPath, [BIN, 'pull', 'huge@latest', '--remote', target, '--out', out, '-q'], { cwd: WORK, env: MODELCTL_ENV });
  rmSync(out, { recursive: true, force: true });
  rmSync(target, { recursive: true, force: true });
  for (const [dir, r] of [['push', up], ['pull', down]]) {
    const mb = (r.rssKiB * 1024) / 1e6;
    record({
      id: `rss-${dir}`,
      name: `peak RSS, ${dir} of a ${fmtBytes(SIZE.huge)} file (folder remote)`,
      summary: `${mb.toFixed(0)} MB in ${fmtMs(r.ms)} (${cpuPerGiB(r.cpuMs, SIZE.huge)})`,
      rssMB: mb,
      ms: r.ms,
      target: { text: '≤ 200 MB', limit: 200, value: Number(mb.toFixed(1)), shown: `${mb.toFixed(0)} MB` },
    });
  }
}
