// OCI registry remotes (issue 16): `npm run bench -- --only oci`.
//   - push of a model holding the 1 GiB transfer file to Debian's docker-registry, against
//     curl putting the same bytes as one blob (monolithic PUT ?digest=, the digest computed
//     beforehand and not timed) on the same registry; interleaved, medians;
//   - pull of it with no repository, against curl getting the blob into a file;
//   - peak RSS pushing and pulling a model of the 10 GiB random file.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BIN, MODELCTL_ENV, RUNS, SIZE, WORK, MiB, fmtBytes, fmtMs, have, log, median, modelctl, newRepo, record, results, run, runWithRss, warm } from './lib.mjs';

const REGISTRY = '/usr/bin/docker-registry';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** docker-registry on 127.0.0.1 with its storage under bench/work (same disk as the data); stop() by pid. */
async function startRegistry() {
  const dir = join(WORK, 'oci-registry');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);
  const child = spawn(REGISTRY, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    url: `oci://${host}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sha256File(path) {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 * MiB);
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** POST an upload session (not timed); returns its Location, absolute. */
function startUpload(host, repository) {
  return new Promise((resolve, reject) => {
    const [h, p] = host.split(':');
    const req = request({ host: h, port: Number(p), method: 'POST', path: `/v2/${repository}/blobs/uploads/`, headers: { 'content-length': '0' } }, (res) => {
      res.resume();
      const loc = res.headers.location;
      if (res.statusCode !== 202 || !loc) return reject(new Error(`POST upload: ${res.statusCode}`));
      resolve(new URL(loc, `http://${host}`).toString());
    });
    req.on('error', reject);
    req.end();
  });
}

/** curl's monolithic PUT of the file as one blob: wall ms. */
async function curlPut(host, repository, file, sha) {
  const loc = await startUpload(host, repository);
  const url = `${loc}${loc.includes('?') ? '&' : '?'}digest=sha256:${sha}`;
  // -T streams the file (--data-binary @file would read it all into memory first).
  const r = run('curl', ['-sS', '-f', '-T', file, '-H', 'Content-Type: application/octet-stream', '-o', '/dev/null', url]);
  return r.ms;
}

/**
 * curl's GET of the blob into a file on the same disk: wall ms. curl leaves the bytes in the
 * page cache when it exits; a modelctl pull returns only once its files are on the disk
 * (fsynced, design.md §5 and §13). With `durable` the file is fdatasync'ed after curl (coreutils
 * `sync -d FILE`) and that time added: the same bytes brought as far as modelctl brings them,
 * reported beside the target's baseline, which stays plain curl.
 */
function curlGet(host, repository, sha, out, durable = false) {
  rmSync(out, { force: true });
  const r = run('curl', ['-sS', '-f', '-o', out, `http://${host}/v2/${repository}/blobs/sha256:${sha}`]);
  const ms = durable ? r.ms + run('sync', ['-d', out], { noCpu: true }).ms : r.ms;
  rmSync(out, { force: true });
  return ms;
}

/** A repository holding `file` as model/weights.safetensors, committed. */
function modelRepo(name, file) {
  const repo = newRepo(join(WORK, name));
  mkdirSync(join(repo, 'model'));
  linkSync(file, join(repo, 'model', 'weights.safetensors'));
  writeFileSync(join(repo, 'model', 'config.json'), '{"bench":true}');
  modelctl(['commit', 'bench', 'model', '-m', 'bench'], { cwd: repo });
  // The commit's copy into the store is still being written back: let it land before
  // anything is timed, so neither side pays for it.
  run('sync', [], { noCpu: true });
  return repo;
}

/** Throughput cases: push and pull of the transfer file against curl on the same registry. */
async function caseThroughput(p, reg) {
  const size = statSync(p.transfer).size;
  const sha = sha256File(p.transfer);
  const push = [];
  const put = [];
  const pull = [];
  const get = [];
  const getDurable = [];
  warm(p.transfer);
  for (let i = 0; i < RUNS; i++) {
    // A fresh repository prefix and a fresh clone each run: nothing on the registry side is
    // in that repository (blobs are per repository in distribution) and the clone knows no
    // sibling repository holding the blob, so the whole file is uploaded (no cross-mount).
    // The commit is not timed.
    const repo = modelRepo(`oci-speed-${i}`, p.transfer);
    // Each timed transfer starts on a quiet disk: the previous one's writes (the registry's
    // copy of an upload, a pull's file) are written back and removals finished first, so no
    // run pays for another's (both tools alike; not timed).
    const settle = () => run('sync', [], { noCpu: true });
    settle();
    put.push(await curlPut(reg.host, `curl${i}/blob`, p.transfer, sha));
    settle();
    const r = modelctl(['push', '--remote', `${reg.url}/run${i}`, '--json'], { cwd: repo });
    const pushed = JSON.parse(r.stdout);
    if (pushed.bytesUploaded < size) throw new Error(`push run ${i} sent ${pushed.bytesUploaded} bytes, expected the whole file`);
    push.push(r.ms);
    rmSync(repo, { recursive: true, force: true });
    const out = join(WORK, `oci-pull-${i}`);
    rmSync(out, { recursive: true, force: true });
    settle();
    get.push(curlGet(reg.host, `curl${i}/blob`, sha, join(WORK, 'oci-curl-get.bin')));
    settle();
    getDurable.push(curlGet(reg.host, `curl${i}/blob`, sha, join(WORK, 'oci-curl-get.bin'), true));
    settle();
    pull.push(modelctl(['pull', 'bench@v1', '--remote', `${reg.url}/run${i}`, '--out', out], { cwd: WORK }).ms);
    rmSync(out, { recursive: true, force: true });
  }
  const mbps = (ms) => size / 1e6 / (ms / 1000);
  for (const [dir, ours, theirs, tool] of [['push', push, put, 'curl PUT (monolithic)'], ['pull', pull, get, 'curl GET']]) {
    const ratio = median(theirs) / median(ours);
    const durable = dir === 'pull' ? `; beside it curl GET + fdatasync of the file ${fmtMs(median(getDurable))} (${mbps(median(getDurable)).toFixed(0)} MB/s, ${(median(getDurable) / median(ours)).toFixed(2)}×), the bytes brought as far as a pull brings them` : '';
    record({
      id: `oci-${dir}`,
      name: `${dir} of a ${fmtBytes(size)} model to docker-registry vs ${tool} of the same bytes as one blob`,
      summary: `modelctl ${fmtMs(median(ours))} (${mbps(median(ours)).toFixed(0)} MB/s), ${tool} ${fmtMs(median(theirs))} (${mbps(median(theirs)).toFixed(0)} MB/s); runs ${ours.map((x) => fmtMs(x)).join(', ')} / ${theirs.map((x) => fmtMs(x)).join(', ')}${durable}`,
      ms: median(ours),
      baselineMs: median(theirs),
      target: { text: `≥ 1.0× ${tool} throughput`, limit: 1.0, atLeast: true, value: Number(ratio.toFixed(2)), shown: `${ratio.toFixed(2)}×` },
    });
  }
}

/** Peak RSS pushing and pulling the 10 GiB random file. */
async function caseRss(p, reg) {
  if (!p.hugeRandom) {
    results.notes.push('oci: no huge random file in quick mode; the 10 GiB RSS case skipped.');
    return;
  }
  const repo = modelRepo('oci-rss', p.hugeRandom);
  const up = runWithRss(process.execPath, [BIN, 'push', '--remote', `${reg.url}/rss`], { cwd: repo, env: MODELCTL_ENV });
  rmSync(repo, { recursive: true, force: true }); // the disk holds the registry's copy and the pull's, not three
  const out = join(WORK, 'oci-rss-pull');
  rmSync(out, { recursive: true, force: true });
  const down = runWithRss(process.execPath, [BIN, 'pull', 'bench@v1', '--remote', `${reg.url}/rss`, '--out', out], { cwd: WORK, env: MODELCTL_ENV });
  rmSync(out, { recursive: true, force: true });
  for (const [dir, r] of [['push', up], ['pull', down]]) {
    const mb = (r.rssKiB * 1024) / 1e6;
    record({
      id: `oci-rss-${dir}`,
      name: `peak RSS, ${dir} of a ${fmtBytes(SIZE.huge)} model (docker-registry)`,
      summary: `${mb.toFixed(0)} MB in ${fmtMs(r.ms)}`,
      rssMB: mb,
      ms: r.ms,
      target: { text: '≤ 200 MB', limit: 200, value: Number(mb.toFixed(1)), shown: `${mb.toFixed(0)} MB` },
    });
  }
}

/** The OCI cases (needs docker-registry and curl). */
export async function caseOci(p) {
  if (!existsSync(REGISTRY) || !have('curl')) {
    results.notes.push('docker-registry or curl not installed: the OCI cases were skipped (apt-get install docker-registry curl).');
    return;
  }
  log('oci: docker-registry on 127.0.0.1');
  const reg = await startRegistry();
  try {
    await caseThroughput(p, reg);
    await caseRss(p, reg);
  } finally {
    await reg.stop();
  }
}
