// `modelctl serve` benchmarks (issue 15): `npm run bench -- --only serve`.
//   - the versions page API at 10,000 versions (limit=50, sorted by a metric), p95 latency;
//   - a file streamed by serve against the same file from `python3 -m http.server`, both read
//     by curl to /dev/null, interleaved;
//   - peak RSS of the server while 4 clients download a 10 GiB file at once.
import { spawn } from 'node:child_process';
import { mkdirSync, linkSync, readFileSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { buildScaleRepo } from './index-scale.mjs';
import { BIN, MODELCTL_ENV, RUNS, SIZE, WORK, fmtBytes, fmtMs, have, log, median, modelctl, newRepo, record, run, warm } from './lib.mjs';

/** Starts `modelctl serve --port 0` in `cwd`; resolves with its URL, pid and stop(). */
function startServe(cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', '-q'], { cwd, env: { ...process.env, ...MODELCTL_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    child.stdout.on('data', (b) => {
      out += b;
      try {
        const started = JSON.parse(out);
        resolve({ url: started.url, pid: child.pid, stop: () => stopChild(child) });
      } catch {
        /* not complete yet */
      }
    });
    child.on('exit', (code) => reject(new Error(`modelctl serve exited ${code}: ${err}`)));
  });
}

/** `python3 -m http.server` serving `dir` on a free port; resolves with its URL and stop(). */
function startStaticServer(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-u', '-c', 'import http.server, functools, sys\nh = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])\ns = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)\nprint(s.server_address[1], flush=True)\ns.serve_forever()', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.once('data', (b) => resolve({ url: `http://127.0.0.1:${String(b).trim()}/`, stop: () => stopChild(child) }));
    child.on('exit', (code) => reject(new Error(`python3 http.server exited ${code}`)));
  });
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** One GET over a keep-alive agent: its latency in ms and status. */
function timedGet(url, agent) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    get(url, { agent }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, status: res.statusCode }));
    }).on('error', reject);
  });
}

/** curl of `url` to /dev/null: wall ms (curl is the client for both servers). */
function curl(url) {
  const r = run('curl', ['-sS', '-f', '-o', '/dev/null', url]);
  if (r.status !== 0) throw new Error(`curl ${url} failed: ${r.stderr}`);
  return r.ms;
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** A repository with `file` committed as model.bin (the object is the served file); its object path. */
function repoWith(name, file) {
  const repo = newRepo(join(WORK, name));
  linkSync(file, join(repo, 'model.bin'));
  const c = modelctl(['commit', 'big', 'model.bin', '-m', 'bench', '--json'], { cwd: repo });
  if (c.status !== 0) throw new Error(`commit failed: ${c.stderr}`);
  const digest = JSON.parse(c.stdout).files[0].digest;
  rmSync(join(repo, 'model.bin'));
  return { repo, object: join(repo, '.modelctl', 'objects', digest.slice(0, 2), digest.slice(2)) };
}

/** The serve cases. */
export async function caseServe(p) {
  log('\n# serve: versions page API at 10,000 versions');
  const dir = join(WORK, 'serve-scale');
  await buildScaleRepo({ dir, versions: 10_000, log });
  const scale = await startServe(dir);
  try {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const model = encodeURIComponent('scale-model');
    const sorts = ['-accuracy', 'accuracy', '-f1', 'loss'];
    for (let i = 0; i < 20; i++) await timedGet(`${scale.url}api/models/${model}/versions?limit=50&sort=-accuracy`, agent); // warm-up
    const page = async (sort, offset) => {
      const r = await timedGet(`${scale.url}api/models/${model}/versions?limit=50&offset=${offset}&sort=${sort}`, agent);
      if (r.status !== 200) throw new Error(`versions page answered ${r.status}`);
      return r.ms;
    };
    // The page people open (the first, by any metric either way), then deep pages apart.
    const lat = [];
    const deep = [];
    for (let i = 0; i < 300; i++) lat.push(await page(sorts[i % sorts.length], 0));
    for (let i = 0; i < 100; i++) deep.push(await page(sorts[i % sorts.length], 50 + ((i * 50) % 1950)));
    agent.destroy();
    const p95 = percentile(lat, 95);
    record({
      id: 'serve-versions-page',
      name: 'serve: GET /api/models/{model}/versions, 10,000 versions, limit=50, sorted by a metric',
      summary: `first page: p50 ${fmtMs(percentile(lat, 50))}, p95 ${fmtMs(p95)}, max ${fmtMs(Math.max(...lat))} over ${lat.length} requests (keep-alive, sorts ${sorts.join(' ')}); deeper pages (offset 50–1950): p50 ${fmtMs(percentile(deep, 50))}, p95 ${fmtMs(percentile(deep, 95))}`,
      samplesMs: { firstPage: lat.map((x) => Number(x.toFixed(2))), deepPages: deep.map((x) => Number(x.toFixed(2))) },
      target: { text: 'p95 ≤ 20 ms (first page)', limit: 20, value: Number(p95.toFixed(2)), shown: fmtMs(p95) },
    });
  } finally {
    await scale.stop();
  }

  if (!have('curl') || !have('python3')) {
    log('  curl or python3 missing: file throughput and RSS cases skipped');
    return;
  }
  log(`\n# serve: a ${fmtBytes(SIZE.big)} file, serve vs python3 -m http.server (curl to /dev/null)`);
  const { repo, object } = repoWith('serve-file', p.base);
  const staticDir = join(WORK, 'serve-static');
  rmSync(staticDir, { recursive: true, force: true });
  mkdirSync(staticDir, { recursive: true });
  linkSync(object, join(staticDir, 'model.bin')); // the very same bytes on disk
  warm(object);
  const server = await startServe(repo);
  const plain = await startStaticServer(staticDir);
  const s = { serve: [], static: [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      s.static.push(curl(`${plain.url}model.bin`));
      s.serve.push(curl(`${server.url}api/versions/big@latest/files/model.bin`));
    }
  } finally {
    await server.stop();
    await plain.stop();
  }
  const m = { serve: median(s.serve), static: median(s.static) };
  const ratio = m.static / m.serve; // throughput ratio
  const gbps = (ms) => `${((SIZE.big / 1e9) / (ms / 1000)).toFixed(2)} GB/s`;
  record({
    id: 'serve-file-throughput',
    name: `serve: a ${fmtBytes(SIZE.big)} file over HTTP vs python3 -m http.server`,
    // The server checks every chunk of an object the first time it sends it (docs/design.md
    // §12), then sends it as it is while its file is unchanged: the first run is that check.
    summary: `serve ${fmtMs(m.serve)} (${gbps(m.serve)}), http.server ${fmtMs(m.static)} (${gbps(m.static)}): ${ratio.toFixed(2)}× its throughput; the first request, which hashed every chunk, ${fmtMs(s.serve[0])} (${gbps(s.serve[0])}, ${(m.static / s.serve[0]).toFixed(2)}×)`,
    samplesMs: s,
    mediansMs: m,
    target: { text: '≥ 0.8× the throughput of a plain static file server', limit: 0.8, atLeast: true, value: Number(ratio.toFixed(3)), shown: `${ratio.toFixed(2)}×` },
  });

  if (!p.hugeRandom) return;
  log(`\n# serve: peak RSS while 4 clients download a ${fmtBytes(SIZE.huge)} file at once`);
  const huge = repoWith('serve-huge', p.hugeRandom);
  const big = await startServe(huge.repo);
  const t = Date.now();
  let hwmKiB = NaN;
  try {
    const url = `${big.url}api/versions/big@latest/files/model.bin`;
    await Promise.all(
      Array.from({ length: 4 }, () => new Promise((resolve, reject) => {
        const c = spawn('curl', ['-sS', '-f', '-o', '/dev/null', url], { stdio: 'ignore' });
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl exit ${code}`))));
      })),
    );
    hwmKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${big.pid}/status`, 'utf8'))?.[1]);
  } finally {
    await big.stop();
  }
  const mb = (hwmKiB * 1024) / 1e6;
  const secs = (Date.now() - t) / 1000;
  record({
    id: 'serve-rss',
    name: `serve: peak RSS, 4 clients downloading a ${fmtBytes(SIZE.huge)} file at once`,
    summary: `${mb.toFixed(0)} MB (VmHWM of the server) while sending ${fmtBytes(4 * SIZE.huge)} in ${secs.toFixed(1)} s`,
    rssMB: mb,
    target: { text: '≤ 250 MB', limit: 250, value: Number(mb.toFixed(1)), shown: `${mb.toFixed(0)} MB` },
  });
}
