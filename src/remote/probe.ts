/**
 * Capability probing shared by every backend: servers that speak S3 differ in whether they
 * enforce conditional writes (s3rver silently ignores them), so the only safe answer comes
 * from trying.
 */
import { randomBytes } from 'node:crypto';
import { isPreconditionFailed, type Remote } from './remote.js';

/** The key prefix of probe objects, at the remote's root (never part of the layout). */
export const PROBE_KEY_PREFIX = '.modelctl-probe-';

/**
 * True when the remote refuses both a second create-if-absent and a replace-if-match with
 * a wrong ETag on a fresh probe key; the probe key is deleted afterwards, whatever happens.
 */
export async function probeConditionalWrites(remote: Pick<Remote, 'put' | 'delete'>): Promise<boolean> {
  const key = PROBE_KEY_PREFIX + randomBytes(12).toString('hex');
  try {
    await remote.put(key, Buffer.from('modelctl probe 1\n'), { condition: { ifAbsent: true } });
    try {
      await remote.put(key, Buffer.from('modelctl probe 2\n'), { condition: { ifAbsent: true } });
      return false;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
    try {
      await remote.put(key, Buffer.from('modelctl probe 3\n'), { condition: { ifMatch: 'modelctl-probe-not-an-etag' } });
      return false;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
    return true;
  } finally {
    await remote.delete(key).catch(() => undefined);
  }
}
