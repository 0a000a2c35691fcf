/**
 * Checks of the lean GET (src/remote/s3-lean-requests.ts) against a real S3 server: the GETs go
 * through a recording proxy (test/helpers/fault-proxy.ts at rate 0), so a check can see that
 * the lean path sent them and did not quietly hand everything to the SDK. On a server that
 * checks signatures (RGW), every lean answer proves the signature right: a wrong one is a 403
 * and would send the GET to the SDK, which these checks would see.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Remote } from '../../src/remote/s3.js';
import { LEAN_GET_USER_AGENT, LEAN_PUT_USER_AGENT } from '../../src/remote/s3-lean-requests.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { expectCode } from './remote-contract.js';

interface Server {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** Which path sent a request: a lean GET or PUT (s3-lean-requests.ts) or the SDK. */
export const sender = (r: { headers: IncomingHttpHeaders }) => (r.headers['user-agent'] === LEAN_GET_USER_AGENT || r.headers['user-agent'] === LEAN_PUT_USER_AGENT ? 'lean' : 'sdk');

export function defineLeanGetChecks(name: string, server: () => Server, opts: { checksSignatures: boolean }): void {
  describe(`lean GETs on ${name}`, () => {
    let proxy: FaultProxy;
    beforeAll(async () => {
      proxy = await startFaultProxy({ upstream: server().endpoint, seed: 1, rate: 0 });
    });
    afterAll(async () => {
      await proxy?.stop();
    });

    const open = (prefix: string, secret?: string) =>
      createS3Remote({
        bucket: server().bucket,
        prefix,
        endpoint: proxy.endpoint,
        region: server().region,
        credentials: { ...server().credentials, ...(secret === undefined ? {} : { secretAccessKey: secret }) },
        maxAttempts: 2,
      });

    it('serves whole, ranged, into-buffer and missing GETs itself, keys with spaces and quotes included', async () => {
      const remote = await open(`lean ${randomBytes(4).toString('hex')}/`);
      const body = randomBytes(300_000);
      const key = "models/m (1)/it's+a=b.bin";
      await remote.put(key, body);
      const before = proxy.log().length;
      expect((await remote.get(key))!.body.equals(body)).toBe(true);
      expect((await remote.get(key, { range: { start: 1000, end: 1999 } }))!.body.equals(body.subarray(1000, 2000))).toBe(true);
      const into = new Uint8Array(body.length);
      expect(await remote.getInto(key, into)).toBe(body.length);
      expect(Buffer.from(into).equals(body)).toBe(true);
      expect(await remote.get('models/m/absent.json')).toBeNull();
      const gets = proxy.log().slice(before).filter((r) => r.method === 'GET');
      expect(gets.map(sender)).toEqual(['lean', 'lean', 'lean', 'lean']);
      await remote.close();
    });

    it('sends chunk PUTs (sha256 known, no condition) itself, and the chunk reads back whole', async () => {
      const remote = await open(`lean-put ${randomBytes(4).toString('hex')}/`);
      const body = randomBytes(1_100_000);
      const sha256 = createHash('sha256').update(body).digest();
      const before = proxy.log().length;
      const { etag } = await remote.put(`chunks/${sha256.toString('hex')}`, body, { sha256 });
      await remote.put('models/m/doc.json', Buffer.from('{}'));
      const puts = proxy.log().slice(before).filter((r) => r.method === 'PUT');
      expect(puts.map(sender)).toEqual(['lean', 'sdk']);
      const back = await remote.get(`chunks/${sha256.toString('hex')}`);
      expect(back!.body.equals(body)).toBe(true);
      expect(back!.etag).toBe(etag);
      await remote.close();
    });

    if (opts.checksSignatures) {
      it('a chunk PUT whose bytes do not match the sha256 it names is refused on both paths, and nothing is stored', async () => {
        const remote = await open(`lean-put-bad ${randomBytes(4).toString('hex')}/`);
        const body = randomBytes(200_000);
        const wrong = createHash('sha256').update(Buffer.from('other bytes')).digest();
        const before = proxy.log().length;
        await expect(remote.put(`chunks/${wrong.toString('hex')}`, body, { sha256: wrong })).rejects.toThrow();
        expect(proxy.log().slice(before).filter((r) => r.method === 'PUT').map(sender)).toEqual(['lean', 'sdk']);
        expect(await remote.get(`chunks/${wrong.toString('hex')}`)).toBeNull();
        await remote.close();
      });

      it('a refused lean GET (wrong secret) goes to the SDK, which reports the credentials', async () => {
        const secret = `wrong-${randomBytes(12).toString('hex')}`;
        const remote = await open('lean-bad/', secret);
        const before = proxy.log().length;
        const err = await expectCode(remote.get('chunks/abc'), 'REMOTE_BAD_CREDENTIALS');
        expect(err.message).not.toContain(secret);
        expect(proxy.log().slice(before).map(sender)).toEqual(['lean', 'sdk']);
        await remote.close();
      });
    }
  });
}
