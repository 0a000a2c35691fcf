// Signing benchmarks (issue 14): `npm run bench -- --only signing`.
//   - sign of a 2 GiB version the first time (the files' whole-byte sha256 computed from
//     the store) against `openssl dgst -sha256` of the same object, interleaved;
//   - a second sign (same key: kept; another key: a new signature from the digests the
//     index keeps) and `verify --signature`, each ≤ 0.2 s;
//   - peak RSS signing and verifying a 10 GiB version.
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { linkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, MODELCTL_ENV, RUNS, SIZE, WORK, fmtBytes, fmtMs, log, median, modelctl, newRepo, record, run, runWithRss, warm } from './lib.mjs';

const require = createRequire(import.meta.url);

/** A repository holding one version of `file` (hard-linked), a trusted P-256 key pair and a second key. */
function signingRepo(name, file) {
  const repo = newRepo(join(WORK, name));
  linkSync(file, join(repo, 'model.bin'));
  const c = modelctl(['commit', 'big', 'model.bin', '-m', 'bench', '--json'], { cwd: repo });
  const version = JSON.parse(c.stdout).version;
  for (const k of ['release', 'second']) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(repo, `${k}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(repo, `${k}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  modelctl(['config', 'set', '--shared', 'trust.keys.release', 'release.pub'], { cwd: repo });
  const digest = JSON.parse(c.stdout).files[0].digest;
  return { repo, version, object: join(repo, '.modelctl', 'objects', digest.slice(0, 2), digest.slice(2)) };
}

/** Forgets every signature and whole-file digest, so the next sign is a first sign. */
function forgetSignatures(repo) {
  const Database = require('better-sqlite3');
  const db = new Database(join(repo, '.modelctl', 'index.db'));
  db.exec('DELETE FROM signatures; DELETE FROM file_sha256;');
  db.close();
}

/** sign first time vs openssl; second sign and verify --signature; RSS at 10 GiB. */
export function caseSigning(p) {
  log(`\n# sign of a ${fmtBytes(SIZE.big)} version`);
  const { repo, object } = signingRepo('sign-big', p.base);
  warm(object);
  const s = { openssl: [], first: [], again: [], otherKey: [], verify: [], node: [], log: [] };
  for (let i = 0; i < RUNS; i++) {
    forgetSignatures(repo);
    s.openssl.push(run('openssl', ['dgst', '-sha256', object]).ms);
    s.first.push(modelctl(['sign', 'big', '--key', 'release.pem', '-q'], { cwd: repo }).ms);
    s.again.push(modelctl(['sign', 'big', '--key', 'release.pem', '-q'], { cwd: repo, noCpu: true }).ms);
    forgetSecond(repo);
    s.otherKey.push(modelctl(['sign', 'big', '--key', 'second.pem', '-q'], { cwd: repo, noCpu: true }).ms);
    s.verify.push(modelctl(['verify', 'big', '--signature', '-q'], { cwd: repo, noCpu: true }).ms);
    // The floor every command stands on, measured alongside: Node's start, and `log`.
    s.node.push(run(process.execPath, ['-e', '0'], { noCpu: true }).ms);
    s.log.push(modelctl(['log', 'big', '-q'], { cwd: repo, noCpu: true }).ms);
    log(`  run ${i + 1}/${RUNS}: openssl ${fmtMs(s.openssl[i])}, first sign ${fmtMs(s.first[i])}, again ${fmtMs(s.again[i])}, another key ${fmtMs(s.otherKey[i])}, verify --signature ${fmtMs(s.verify[i])}`);
  }
  const m = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
  const ratio = m.first / m.openssl;
  record({
    id: 'sign-first',
    name: `sign of a ${fmtBytes(SIZE.big)} version, first time`,
    summary: `${fmtMs(m.first)} vs openssl dgst -sha256 of the object ${fmtMs(m.openssl)} (${ratio.toFixed(2)}×)`,
    samplesMs: { openssl: s.openssl, sign: s.first },
    mediansMs: { openssl: m.openssl, sign: m.first },
    target: { text: '≤ 1.1× openssl dgst -sha256', limit: 1.1, value: Number(ratio.toFixed(3)), shown: `${ratio.toFixed(2)}×` },
  });
  const again = Math.max(m.again, m.otherKey);
  record({
    id: 'sign-again',
    name: 'second sign of the same version',
    summary: `same key (kept) ${fmtMs(m.again)}, another key (new signature, digests from the index) ${fmtMs(m.otherKey)}; in the same run node -e 0 took ${fmtMs(m.node)} and modelctl log ${fmtMs(m.log)}`,
    samplesMs: { sameKey: s.again, otherKey: s.otherKey },
    target: { text: '≤ 0.2 s', limit: 200, value: Number(again.toFixed(1)), shown: fmtMs(again) },
  });
  record({
    id: 'verify-signature',
    name: 'verify --signature',
    summary: `${fmtMs(m.verify)} (two signatures checked, no file bytes read); node -e 0 ${fmtMs(m.node)}, modelctl log ${fmtMs(m.log)}`,
    samplesMs: s.verify,
    target: { text: '≤ 0.2 s', limit: 200, value: Number(m.verify.toFixed(1)), shown: fmtMs(m.verify) },
  });

  if (!p.hugeRandom) return;
  log(`\n# peak RSS signing and verifying a ${fmtBytes(SIZE.huge)} version`);
  const huge = signingRepo('sign-huge', p.hugeRandom);
  const signed = runWithRss(process.execPath, [BIN, 'sign', 'big', '--key', 'release.pem', '-q'], { cwd: huge.repo, env: MODELCTL_ENV });
  const verified = runWithRss(process.execPath, [BIN, 'verify', 'big', '--signature', '-q'], { cwd: huge.repo, env: MODELCTL_ENV });
  const mb = Math.max(signed.rssKiB, verified.rssKiB) * 1024 / 1e6;
  record({
    id: 'sign-rss',
    name: `peak RSS, sign and verify --signature of a ${fmtBytes(SIZE.huge)} version`,
    summary: `sign ${((signed.rssKiB * 1024) / 1e6).toFixed(0)} MB in ${fmtMs(signed.ms)}, verify ${((verified.rssKiB * 1024) / 1e6).toFixed(0)} MB in ${fmtMs(verified.ms)}`,
    rssMB: mb,
    target: { text: '≤ 200 MB', limit: 200, value: Number(mb.toFixed(1)), shown: `${mb.toFixed(0)} MB` },
  });
}

function forgetSecond(repo) {
  const Database = require('better-sqlite3');
  const db = new Database(join(repo, '.modelctl', 'index.db'));
  db.prepare("DELETE FROM signatures WHERE key_hint NOT IN (SELECT key_hint FROM signatures ORDER BY created_at LIMIT 1)").run();
  db.close();
}


