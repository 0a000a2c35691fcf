/**
 * The fast hashing paths (WebAssembly boundary scan, worker-thread pipeline, whole files on
 * workers) must give exactly what the plain single-threaded rule gives: same cut points,
 * same chunk digests, same file digests, on random, zero, small and vector inputs, and
 * the store copy must be byte-identical.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chunker } from '../../src/store/chunker.js';
import { fileDigestFromChunks } from '../../src/store/file-digest.js';
import { CHUNKING } from '../../src/store/gear.js';
import { WasmChunker } from '../../src/store/gear-wasm.js';
import { ChunkHasher, hashFileSingleThread, hashFileSync, type HashedFile } from '../../src/store/hash-file.js';
import { PARALLEL_FILE_BYTES, fsyncPaths, hashFdPipelined, hashFilesParallel, hashThreads } from '../../src/store/parallel-hash.js';
import { vectorStream } from '../vectors/stream.js';
import { cliEnv } from '../helpers/temp-repo.js';

const MiB = 1024 * 1024;
const vectors = JSON.parse(readFileSync(new URL('../vectors/chunker-v1.json', import.meta.url), 'utf8')) as {
  cases: { name: string; seed: string; zeros: boolean; length: number; cutPoints: number[]; chunkDigests: string[]; fileDigest: string }[];
};

/** The reference: the readable TypeScript Chunker over the whole input, sha256 per chunk. */
function reference(data: Uint8Array): HashedFile {
  const cuts = new Chunker().push(data);
  if (data.length > 0 && cuts[cuts.length - 1] !== data.length) cuts.push(data.length);
  let prev = 0;
  const chunks = cuts.map((cut) => {
    const c = { digest: createHash('sha256').update(data.subarray(prev, cut)).digest('hex'), offset: prev, length: cut - prev };
    prev = cut;
    return c;
  });
  return { size: data.length, digest: fileDigestFromChunks(chunks.map((c) => c.digest)), chunks };
}

/** Pseudo-random bytes (xorshift, fast enough for tens of MiB). */
function randomBytes(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n + (4 - (n % 4)));
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length / 4);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return out.subarray(0, n);
}

/** Random with long zero runs and a repeated block: exercises max-size cuts and dedup-like content. */
function mixedBytes(n: number): Buffer {
  const out = randomBytes(n, 99);
  out.fill(0, Math.floor(n * 0.2), Math.min(n, Math.floor(n * 0.2) + 9 * MiB));
  out.copy(out, Math.floor(n * 0.7), 0, Math.min(3 * MiB, n - Math.floor(n * 0.7)));
  return out;
}

let dir: string;
const savedThreads = process.env.MODELCTL_THREADS;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelctl-phash-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  if (savedThreads === undefined) delete process.env.MODELCTL_THREADS;
  else process.env.MODELCTL_THREADS = savedThreads;
});
afterAll(() => undefined);

function fileOf(name: string, data: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

function pipelined(path: string, copyTo?: string): HashedFile {
  const fd = openSync(path, 'r');
  const out = copyTo === undefined ? undefined : openSync(copyTo, 'w', 0o600);
  try {
    const r = hashFdPipelined(fd, out);
    if (out !== undefined) fsyncSync(out);
    return r;
  } finally {
    closeSync(fd);
    if (out !== undefined) closeSync(out);
  }
}

describe('WebAssembly boundary scan', () => {
  it('finds the same cut points as the TypeScript Chunker on random, zero, mixed and tiny inputs', () => {
    const inputs: [string, Buffer][] = [
      ['random 24 MiB', randomBytes(24 * MiB, 1)],
      ['zeros 13 MiB', Buffer.alloc(13 * MiB)],
      ['mixed 30 MiB', mixedBytes(30 * MiB)],
      ['constant 0xff 9 MiB', Buffer.alloc(9 * MiB, 0xff)],
      ...[0, 1, 31, 32, 33, CHUNKING.minSize - 1, CHUNKING.minSize, CHUNKING.minSize + 1, CHUNKING.maxSize, CHUNKING.maxSize + 1].map(
        (n): [string, Buffer] => [`random ${n} B`, randomBytes(n, n + 5)],
      ),
    ];
    for (const [name, data] of inputs) {
      expect(new WasmChunker().push(data), name).toEqual(new Chunker().push(data));
    }
  });

  it('does not depend on how the input is sliced', () => {
    const data = mixedBytes(20 * MiB);
    const whole = new Chunker().push(data);
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % (5 * MiB)) + 1;
    const w = new WasmChunker();
    const cuts: number[] = [];
    for (let off = 0; off < data.length; ) {
      const end = Math.min(data.length, off + rand());
      cuts.push(...w.push(data, off, end));
      off = end;
    }
    expect(cuts).toEqual(whole);
  });

  it('interleaved chunkers keep their own state', () => {
    const a = randomBytes(9 * MiB, 11);
    const b = mixedBytes(9 * MiB);
    const wa = new WasmChunker();
    const wb = new WasmChunker();
    const ca: number[] = [];
    const cb: number[] = [];
    for (let off = 0; off < a.length; off += MiB) {
      ca.push(...wa.push(a, off, off + MiB));
      cb.push(...wb.push(b, off, off + MiB));
    }
    expect(ca).toEqual(new Chunker().push(a));
    expect(cb).toEqual(new Chunker().push(b));
  });
});

describe('parallel pipeline (worker threads)', () => {
  it('gives the reference chunks and digests, and a byte-identical copy', () => {
    process.env.MODELCTL_THREADS = '2';
    const cases: [string, Buffer][] = [
      ['random, odd tail', randomBytes(PARALLEL_FILE_BYTES + 3 * MiB + 12345, 7)],
      ['zeros', Buffer.alloc(PARALLEL_FILE_BYTES + 5 * MiB)],
      ['mixed, slot multiple', mixedBytes(40 * MiB)],
      ['small', randomBytes(300_000, 8)],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [name, data] of cases) {
      const path = fileOf('in.bin', data);
      const expected = reference(data);
      const copy = join(dir, 'copy.bin');
      expect(pipelined(path, copy), name).toEqual(expected);
      expect(readFileSync(copy).equals(data), `${name}: copy`).toBe(true);
      expect(hashFileSingleThread(path), name).toMatchObject(expected);
      // hashFileSync picks the pipeline by size; same answer either way.
      expect(hashFileSync(path), name).toMatchObject(expected);
    }
  });

  it('reproduces the committed test vectors', () => {
    for (const c of vectors.cases) {
      const data = c.zeros ? Buffer.alloc(c.length) : vectorStream(c.seed, c.length);
      const r = pipelined(fileOf(`${c.name}.bin`, data));
      expect(r.chunks.map((ch) => ch.offset + ch.length), c.name).toEqual(c.cutPoints);
      expect(r.chunks.map((ch) => ch.digest), c.name).toEqual(c.chunkDigests);
      expect(r.digest, c.name).toBe(c.fileDigest);
      const h = new ChunkHasher();
      h.update(data);
      expect(h.finish().digest).toBe(c.fileDigest);
    }
  });

  it('one thread copies big files byte for byte too (O_DIRECT for the aligned part)', () => {
    const data = mixedBytes(PARALLEL_FILE_BYTES + 2 * MiB + 777);
    const src = fileOf('one-copy.bin', data);
    const dest = join(dir, 'one-copy.out');
    const fd = openSync(dest, 'w', 0o600);
    try {
      expect(hashFileSingleThread(src, fd)).toMatchObject(reference(data));
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(dest).equals(data)).toBe(true);
  });

  it('a file shorter than the smallest chunk is one chunk, with the reference digest and a byte-identical copy', () => {
    for (const n of [0, 1, 1000, CHUNKING.minSize - 1, CHUNKING.minSize, CHUNKING.minSize + 1]) {
      const data = n === 1000 ? Buffer.concat([Buffer.alloc(500), randomBytes(500, 5)]) : randomBytes(n, n + 3);
      const src = fileOf(`short-${n}.bin`, data);
      const dest = join(dir, `short-${n}.out`);
      const fd = openSync(dest, 'w', 0o600);
      try {
        expect(hashFileSingleThread(src, fd), `${n} bytes`).toMatchObject(reference(data));
      } finally {
        closeSync(fd);
      }
      expect(readFileSync(dest).equals(data), `${n} bytes: copy`).toBe(true);
      // The premise: no cut comes before the minimum size.
      if (n > 0 && n < CHUNKING.minSize) expect(reference(data).chunks).toHaveLength(1);
    }
  });

  it('MODELCTL_THREADS=1 keeps everything on one thread with the same result', () => {
    process.env.MODELCTL_THREADS = '1';
    expect(hashThreads()).toBe(1);
    const data = randomBytes(PARALLEL_FILE_BYTES + 100, 21);
    expect(hashFileSync(fileOf('one.bin', data))).toMatchObject(reference(data));
  });
});

describe('whole files on workers', () => {
  it('hashes many files, each like the reference, and reports a missing one as its error', () => {
    process.env.MODELCTL_THREADS = '2';
    const datas = Array.from({ length: 40 }, (_, i) => randomBytes((i * 37_813) % (3 * MiB), i + 1));
    const paths = datas.map((d, i) => fileOf(`f${i}.bin`, d));
    const tasks = [...paths.map((path) => ({ path })), { path: join(dir, 'missing.bin') }];
    const results = new Map<number, HashedFile | Error>();
    hashFilesParallel(tasks, (i, r) => results.set(i, r), (t) => hashFileSingleThread(t.path, t.copyToFd));
    expect(results.size).toBe(tasks.length);
    datas.forEach((d, i) => expect(results.get(i), `file ${i}`).toMatchObject(reference(d)));
    const missing = results.get(datas.length);
    expect(missing).toBeInstanceOf(Error);
    expect((missing as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('copies each file into its temp file and fsyncs it', () => {
    process.env.MODELCTL_THREADS = '2';
    const data = mixedBytes(12 * MiB);
    const src = fileOf('src.bin', data);
    const dest = join(dir, 'dest.bin');
    const fd = openSync(dest, 'w', 0o600);
    try {
      let got: HashedFile | Error | undefined;
      hashFilesParallel([{ path: src, openCopy: () => fd }], (_, r) => (got = r), (t) => hashFileSingleThread(t.path, t.copyToFd));
      expect(got).toMatchObject(reference(data));
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(dest).equals(data)).toBe(true);
  });

  it('stores many files with only the files in flight holding a temp file, each copy complete', () => {
    process.env.MODELCTL_THREADS = '2';
    const datas = Array.from({ length: 300 }, (_, i) => randomBytes(1 + ((i * 7919) % 40_000), i + 100));
    const paths = datas.map((d, i) => fileOf(`s${i}.bin`, d));
    const fds = new Map<number, number>();
    let open = 0;
    let mostOpen = 0;
    const results = new Map<number, HashedFile | Error>();
    hashFilesParallel(
      paths.map((path, i) => ({
        path,
        openCopy: () => {
          const fd = openSync(join(dir, `copy${i}`), 'w', 0o600);
          fds.set(i, fd);
          mostOpen = Math.max(mostOpen, ++open);
          return fd;
        },
      })),
      (i, r) => {
        results.set(i, r);
        closeSync(fds.get(i) as number);
        open--;
      },
      (t) => {
        const r = hashFileSingleThread(t.path, t.copyToFd);
        if (t.copyToFd !== undefined) fsyncSync(t.copyToFd);
        return r;
      },
    );
    datas.forEach((d, i) => {
      expect(results.get(i), `file ${i}`).toMatchObject(reference(d));
      expect(readFileSync(join(dir, `copy${i}`)).equals(d), `copy ${i}`).toBe(true);
    });
    expect(open).toBe(0);
    expect(mostOpen).toBeLessThan(paths.length / 2);
  });
});

describe('fsyncPaths', () => {
  it('fsyncs files and folders, on workers when there are many, and throws for a path that is not there', () => {
    process.env.MODELCTL_THREADS = '2';
    const files = Array.from({ length: 40 }, (_, i) => fileOf(`sync${i}.bin`, randomBytes(100, i)));
    expect(() => fsyncPaths([...files, dir, tmpdir()])).not.toThrow();
    expect(() => fsyncPaths([dir])).not.toThrow();
    expect(() => fsyncPaths([...files, join(dir, 'absent')])).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => fsyncPaths([join(dir, 'absent')])).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('worker start-up', () => {
  it('works when the process was started with --input-type=module -e (workers must not inherit it)', () => {
    const data = randomBytes(PARALLEL_FILE_BYTES + 999, 31);
    const repo = mkdtempSync(join(tmpdir(), 'modelctl-eval-'));
    try {
      writeFileSync(join(repo, 'big.bin'), data);
      // The built Node API (dist/index.js, a bundle chunk): its hashing pool must find the
      // worker entry point dist/store/hash-worker.js and start it without the -e flags.
      const api = new URL('../../dist/index.js', import.meta.url).href;
      const script = `const m = await import(${JSON.stringify(api)}); const cwd = ${JSON.stringify(repo)};
        m.init({ cwd }); await m.commit({ cwd, model: 'm', paths: ['big.bin'] });
        console.log((await m.show({ cwd, ref: 'm' })).files[0].digest);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
        env: cliEnv({ MODELCTL_THREADS: '2', CI: '1' }),
      });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(reference(data).digest);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
