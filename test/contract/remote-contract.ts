/**
 * The one contract every Remote backend must pass (restic's backend test suite, in spirit).
 * A backend's test file calls defineRemoteContract with a harness that opens remotes over
 * fresh, isolated roots (a new folder, a new key prefix), so cases never see each other.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ModelctlError } from '../../src/errors.js';
import { listKeysOf, listObjectsExcept, readObjectInto, type Remote } from '../../src/remote/remote.js';

/** How the contract reaches one backend. */
export interface RemoteHarness {
  /** A remote over a fresh, empty root; `pageSize` forces small list pages where the backend pages. */
  open(opts?: { pageSize?: number }): Promise<Remote>;
  /** A remote whose secret is wrong, and that secret; absent for backends without credentials. */
  openWithBadSecret?(): Promise<{ remote: Remote; secret: string }>;
  /** What probeCapabilities() must report. */
  expectConditionalWrites: boolean;
  /** Whether a wrong `sha256` is refused (real S3 and the directory backend; s3rver and RGW 16 ignore it). */
  verifiesChecksums: boolean;
}

/** Registers the contract cases for one backend; `getHarness` is called inside tests, after beforeAll. */
export function defineRemoteContract(name: string, getHarness: () => RemoteHarness): void {
  describe(`Remote contract: ${name}`, () => {
    const withRemote = async (fn: (remote: Remote) => Promise<void>, opts?: { pageSize?: number }): Promise<void> => {
      const remote = await getHarness().open(opts);
      try {
        await fn(remote);
      } finally {
        await remote.close();
      }
    };
    const conditionalIt = (title: string, fn: () => Promise<void>): void => {
      it(title, async (ctx) => {
        if (!getHarness().expectConditionalWrites) {
          ctx.skip(`${name} does not honour conditional writes`);
          return;
        }
        await fn();
      });
    };

    it('round-trips an empty body, one byte and 5 MiB', () =>
      withRemote(async (remote) => {
        for (const [key, body] of [
          ['rt/empty', Buffer.alloc(0)],
          ['rt/one', Buffer.from([0x2a])],
          ['rt/five-mib', randomBytes(5 * 1024 * 1024)],
        ] as const) {
          const { etag } = await remote.put(key, body);
          expect(etag).not.toBe('');
          expect(etag).not.toMatch(/^"|"$/);
          const got = await remote.get(key);
          expect(got).not.toBeNull();
          expect(got!.body.equals(body)).toBe(true);
          expect(got!.etag).toBe(etag);
          expect(await remote.head(key)).toMatchObject({ key, size: body.length, etag });
        }
      }));

    it('returns null for get and head of a missing key', () =>
      withRemote(async (remote) => {
        expect(await remote.get('missing/nothing.json')).toBeNull();
        expect(await remote.head('missing/nothing.json')).toBeNull();
        expect(await remote.get('missing/nothing.json', { range: { start: 0, end: 10 } })).toBeNull();
      }));

    it('reads an object into a caller buffer (getInto): whole, absent, larger than the buffer', () =>
      withRemote(async (remote) => {
        const body = randomBytes(3 * 1024 * 1024 + 17);
        await remote.put('into/blob', body);
        await remote.put('into/empty', Buffer.alloc(0));
        for (const read of [readObjectInto, ...(remote.getInto ? [(r: Remote, k: string, b: Uint8Array) => r.getInto!(k, b)] : [])]) {
          const into = Buffer.alloc(4 * 1024 * 1024, 0xee);
          expect(await read(remote, 'into/blob', into)).toBe(body.length);
          expect(into.subarray(0, body.length).equals(body)).toBe(true);
          expect(into[body.length]).toBe(0xee);
          expect(await read(remote, 'into/empty', into)).toBe(0);
          expect(await read(remote, 'into/missing', into)).toBeNull();
          // Too small a buffer: the size says so, and nothing past the buffer is touched.
          const small = Buffer.alloc(1000);
          const outer = Buffer.alloc(2000, 0x11);
          const view = outer.subarray(0, 1000);
          expect(await read(remote, 'into/blob', view)).toBeGreaterThan(small.length);
          expect(outer.subarray(1000).every((b) => b === 0x11)).toBe(true);
        }
      }));

    it('serves inclusive byte ranges, clamped at the end', () =>
      withRemote(async (remote) => {
        const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
        const { etag } = await remote.put('range/blob', body);
        const mid = await remote.get('range/blob', { range: { start: 10, end: 19 } });
        expect(mid!.body.equals(body.subarray(10, 20))).toBe(true);
        expect(mid!.etag).toBe(etag);
        expect((await remote.get('range/blob', { range: { start: 0, end: 0 } }))!.body.equals(body.subarray(0, 1))).toBe(true);
        expect((await remote.get('range/blob', { range: { start: 999, end: 999 } }))!.body.equals(body.subarray(999))).toBe(true);
        expect((await remote.get('range/blob', { range: { start: 990, end: 5000 } }))!.body.equals(body.subarray(990))).toBe(true);
        await expectCode(remote.get('range/blob', { range: { start: 1000, end: 1010 } }), 'RANGE_NOT_SATISFIABLE');
        await expectCode(remote.get('range/blob', { range: { start: 5, end: 4 } }), 'INVALID_RANGE');
      }));

    it('lists across several pages, relative to the root, filtered by prefix', () =>
      withRemote(
        async (remote) => {
          const put = async (key: string): Promise<[string, string]> => [key, (await remote.put(key, Buffer.from(key))).etag];
          const aKeys = await Promise.all(Array.from({ length: 7 }, (_, i) => put(`a/k${i}`)));
          const others = await Promise.all([put('a/deep/er/x'), put('ab'), put('b/one'), put('b/two')]);
          const all = new Map([...aKeys, ...others]);

          const underA = await collect(remote.list('a/'));
          expect(underA.map((o) => o.key).sort()).toEqual([...aKeys.map(([k]) => k), 'a/deep/er/x'].sort());
          for (const o of underA) {
            expect(o.etag).toBe(all.get(o.key));
            expect(o.lastModified).toBeInstanceOf(Date);
            expect(o.size).toBe(Buffer.byteLength(o.key));
          }
          expect((await collect(remote.list(''))).map((o) => o.key).sort()).toEqual([...all.keys()].sort());
          expect((await collect(remote.list('a'))).map((o) => o.key).sort()).toEqual(
            [...aKeys.map(([k]) => k), 'a/deep/er/x', 'ab'].sort(),
          );
          expect((await collect(remote.list('a/k'))).length).toBe(7);
          expect(await collect(remote.list('nothing/'))).toEqual([]);
          // Keys only (a backend's listKeys where it has one), and list minus skipped keys
          // (remote gc's sweep listing): the same objects as list gives.
          expect((await collect(listKeysOf(remote, 'a/'))).sort()).toEqual(underA.map((o) => o.key).sort());
          expect((await collect(listKeysOf(remote, 'a'))).length).toBe(9);
          const kept = await collect(listObjectsExcept(remote, 'a/', (k) => k.startsWith('a/k')));
          expect(kept.map((o) => ({ key: o.key, etag: o.etag, size: o.size }))).toEqual([{ key: 'a/deep/er/x', etag: all.get('a/deep/er/x'), size: Buffer.byteLength('a/deep/er/x') }]);
          expect(kept[0]!.lastModified).toBeInstanceOf(Date);
        },
        { pageSize: 2 },
      ));

    it('keeps keys with spaces, unicode and URL-special characters intact', () =>
      withRemote(async (remote) => {
        const keys = ['odd/with space.json', 'odd/ünï €.json', 'odd/plus+eq=amp&q?.json', 'odd/percent%20hash#.json'];
        for (const key of keys) await remote.put(key, Buffer.from(key));
        for (const key of keys) expect((await remote.get(key))!.body.toString()).toBe(key);
        expect((await collect(remote.list('odd/'))).map((o) => o.key).sort()).toEqual([...keys].sort());
      }));

    it("reports the store's write time in head and list, and a re-put moves it forward (remote gc's grace clock)", () =>
      withRemote(async (remote) => {
        const before = Date.now();
        await remote.put('time/x', Buffer.from('one'));
        const first = (await remote.head('time/x'))!.lastModified;
        expect(first).toBeInstanceOf(Date);
        // S3 keeps whole seconds; the store's clock is this host's here, give or take.
        expect(first!.getTime()).toBeGreaterThan(before - 5_000);
        expect(first!.getTime()).toBeLessThan(Date.now() + 5_000);
        const listed = (await collect(remote.list('time/')))[0]!;
        // A listing may carry milliseconds where HEAD's Last-Modified header has whole seconds.
        expect(Math.abs(listed.lastModified!.getTime() - first!.getTime())).toBeLessThan(1_000);
        await new Promise((r) => setTimeout(r, 1_100));
        await remote.put('time/x', Buffer.from('one'));
        expect((await remote.head('time/x'))!.lastModified!.getTime()).toBeGreaterThan(first!.getTime());
      }));

    it('replaces an object unconditionally with a new ETag', () =>
      withRemote(async (remote) => {
        const first = await remote.put('replace/x', Buffer.from('one'));
        const second = await remote.put('replace/x', Buffer.from('two, longer'));
        expect(second.etag).not.toBe(first.etag);
        expect((await remote.get('replace/x'))!.body.toString()).toBe('two, longer');
      }));

    it('deletes idempotently', () =>
      withRemote(async (remote) => {
        await remote.put('del/x', Buffer.from('x'));
        await remote.delete('del/x');
        expect(await remote.head('del/x')).toBeNull();
        await remote.delete('del/x');
        await remote.delete('del/never-existed');
      }));

    it('rejects unsafe keys before touching the store', () =>
      withRemote(async (remote) => {
        for (const key of ['../escape', 'a/../../b', '/abs', 'a\\b', 'nul\0byte', '', 'a//b', 'trailing/', './x', 'a/.~modelctl-tmp-x']) {
          await expectCode(remote.put(key, Buffer.from('x')), 'INVALID_REMOTE_KEY');
          await expectCode(remote.get(key), 'INVALID_REMOTE_KEY');
          await expectCode(remote.head(key), 'INVALID_REMOTE_KEY');
          await expectCode(remote.delete(key), 'INVALID_REMOTE_KEY');
        }
        await expectCode(collect(remote.list('../')), 'INVALID_REMOTE_KEY');
        await expectCode(remote.put('both', Buffer.from('x'), { condition: { ifAbsent: true, ifMatch: 'x' } }), 'INVALID_PUT_CONDITION');
        expect(await collect(remote.list(''))).toEqual([]);
      }));

    it('accepts a correct sha256 checksum (and refuses a wrong one where the store checks)', () =>
      withRemote(async (remote) => {
        const body = randomBytes(300_000);
        const sha256 = createHash('sha256').update(body).digest();
        const { etag } = await remote.put(`chunks/${sha256.toString('hex')}`, body, { sha256 });
        const got = await remote.get(`chunks/${sha256.toString('hex')}`);
        expect(got!.body.equals(body)).toBe(true);
        expect(got!.etag).toBe(etag);
        if (getHarness().verifiesChecksums) {
          const wrong = createHash('sha256').update('something else').digest();
          const err = await expectCode(remote.put('chunks/wrong', body, { sha256: wrong }), 'CHECKSUM_MISMATCH');
          expect(err.exitCode).toBe(6);
          expect(await remote.head('chunks/wrong')).toBeNull();
        }
      }));

    it(`probes conditional writes and leaves nothing behind`, () =>
      withRemote(async (remote) => {
        const caps = await remote.probeCapabilities();
        expect(caps).toEqual({ conditionalWrites: getHarness().expectConditionalWrites });
        expect(await remote.probeCapabilities()).toEqual(caps);
        expect(await collect(remote.list(''))).toEqual([]);
      }));

    it('never puts the secret in an error', async (ctx) => {
      const harness = getHarness();
      if (harness.openWithBadSecret === undefined) {
        ctx.skip(`${name} has no credentials`);
        return;
      }
      const { remote, secret } = await harness.openWithBadSecret();
      try {
        for (const attempt of [
          () => remote.put('secret/x', Buffer.from('x')),
          () => remote.get('secret/x'),
          () => collect(remote.list('')),
        ]) {
          const err = await attempt().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(ModelctlError);
          const e = err as ModelctlError;
          expect(e.exitCode).toBe(7);
          expect(e.code).toMatch(/^REMOTE_/);
          const everything = [e.message, e.hint ?? '', JSON.stringify(e.data ?? {}), String(e.stack)].join('\n');
          expect(everything).not.toContain(secret);
        }
      } finally {
        await remote.close();
      }
    });

    conditionalIt('ifAbsent creates a missing key and refuses an existing one, keeping the old body', () =>
      withRemote(async (remote) => {
        const created = await remote.put('cond/number', Buffer.from('first'), { condition: { ifAbsent: true } });
        const err = await expectCode(remote.put('cond/number', Buffer.from('second'), { condition: { ifAbsent: true } }), 'PRECONDITION_FAILED');
        expect(err.exitCode).toBe(4);
        expect(await remote.get('cond/number')).toEqual({ body: Buffer.from('first'), etag: created.etag });
      }));

    conditionalIt('ifMatch swaps with the current ETag and refuses a stale or missing one', () =>
      withRemote(async (remote) => {
        const v1 = await remote.put('cond/stage', Buffer.from('v1'));
        const v2 = await remote.put('cond/stage', Buffer.from('v2'), { condition: { ifMatch: v1.etag } });
        expect(v2.etag).not.toBe(v1.etag);
        expect((await remote.get('cond/stage'))!.body.toString()).toBe('v2');
        await expectCode(remote.put('cond/stage', Buffer.from('v3'), { condition: { ifMatch: v1.etag } }), 'PRECONDITION_FAILED');
        expect(await remote.get('cond/stage')).toEqual({ body: Buffer.from('v2'), etag: v2.etag });
        // Quoted, as some tools print it: still the same ETag.
        const v4 = await remote.put('cond/stage', Buffer.from('v4'), { condition: { ifMatch: `"${v2.etag}"` } });
        expect((await remote.head('cond/stage'))!.etag).toBe(v4.etag);
        await expectCode(remote.put('cond/absent', Buffer.from('x'), { condition: { ifMatch: v4.etag } }), 'PRECONDITION_FAILED');
        expect(await remote.head('cond/absent')).toBeNull();
      }));

    conditionalIt('lets exactly one of 10 concurrent ifAbsent puts win', () =>
      withRemote(async (remote) => {
        const bodies = Array.from({ length: 10 }, (_, i) => Buffer.from(`writer ${i}`));
        const results = await Promise.allSettled(bodies.map((b) => remote.put('race/tag.json', b, { condition: { ifAbsent: true } })));
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as ModelctlError).code).toBe('PRECONDITION_FAILED');
        }
        expect((await remote.get('race/tag.json'))!.body.equals(bodies[winners[0]!]!)).toBe(true);
      }));

    conditionalIt('keeps a compare-and-swap counter exact under 5 concurrent writers', () =>
      withRemote(async (remote) => {
        await remote.put('cas/counter', Buffer.from('0'));
        // Each writer's bodies are its own ("<n>/<writer>"), as the interface asks of
        // conditional bodies: a retried put whose answer was lost is judged by its bytes.
        const value = (b: Buffer) => Number(b.toString().split('/')[0]);
        const worker = async (_: unknown, writer: number): Promise<void> => {
          for (let done = 0; done < 4; ) {
            const current = await remote.get('cas/counter');
            const next = Buffer.from(`${value(current!.body) + 1}/${writer}`);
            try {
              await remote.put('cas/counter', next, { condition: { ifMatch: current!.etag } });
              done++;
            } catch (err) {
              if ((err as ModelctlError).code !== 'PRECONDITION_FAILED') throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: 5 }, worker));
        expect(value((await remote.get('cas/counter'))!.body)).toBe(20);
      }));
  });
}

/** Drains an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Awaits a promise that must reject with a ModelctlError of `code`; returns that error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<ModelctlError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a ${code} error`).toBeInstanceOf(ModelctlError);
  expect((err as ModelctlError).code).toBe(code);
  return err as ModelctlError;
}
