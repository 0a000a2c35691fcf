import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openIndex } from '../../src/store/index-db.js';
import { createDirectoryRemote } from '../../src/remote/directory.js';
import { signatureKey } from '../../src/core/signature-layout.js';
import { fetchSignatures, publishSignatures } from '../../src/sync/signature-sync.js';
import { configSet } from '../../src/api/config.js';
import { sign } from '../../src/api/sign.js';
import { writeKeyPair } from '../helpers/oms-fixtures.js';
import { apiEnv, commitIn, remoteAddIn } from '../helpers/setup-api.js';
import { runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** A signs fraud@v1 and pushes the version to a folder remote; B pulls it. */
async function twoClones() {
  const remoteDir = join(tempDir(), 'registry');
  const a = tempRepo();
  writeFile(a, 'model/w.bin', Buffer.alloc(100_000, 3));
  // Arranged through the Node API (setup-api.ts): the tests check the sync layer's records, not these commands' output.
  const versionId = await commitIn(a, 'fraud', ['model/'], 'one', { argv: ['commit', 'fraud', 'model/', '-m', 'one', '--json'] });
  writeKeyPair(a, 'release', { type: 'ec', curve: 'prime256v1' });
  await configSet({ cwd: a, env: apiEnv(), key: 'trust.keys.release', value: 'release.pub', shared: true });
  await sign({ cwd: a, env: apiEnv(), ref: 'fraud@v1', key: 'release.pem', argv: ['sign', 'fraud@v1', '--key', 'release.pem'] });
  await remoteAddIn(a, 'origin', remoteDir, { default: true });
  // The push and the pull whose signature travel the first test checks run as users run them.
  expect(runCli(a, ['push']).code).toBe(0);
  const b = tempRepo();
  await remoteAddIn(b, 'origin', remoteDir, { default: true });
  expect(runCli(b, ['pull', 'fraud@v1']).code).toBe(0);
  return { a, b, remoteDir, versionId };
}

describe('signature travel (sync/signature-sync.ts)', () => {
  it('push published it (create-only, one object per key) and pull brought it; publishing again sends nothing', async () => {
    const { a, b, remoteDir, versionId } = await twoClones();
    const remote = createDirectoryRemote({ root: remoteDir, displayUrl: remoteDir });
    const dbA = openIndex(join(a, '.modelctl', 'index.db'));
    const hint = (dbA.prepare('SELECT key_hint FROM signatures').get() as { key_hint: string }).key_hint;
    expect(await remote.head(signatureKey(versionId, 'signature', hint))).not.toBeNull();
    expect(await publishSignatures(dbA, remote, 'origin-test', [versionId])).toMatchObject({ published: 0, alreadyThere: 1, warnings: [] });
    expect(await publishSignatures(dbA, remote, 'origin-test', [versionId])).toMatchObject({ published: 0, alreadyThere: 0 });
    dbA.close();
    const dbB = openIndex(join(b, '.modelctl', 'index.db'));
    expect((dbB.prepare('SELECT count(*) AS n FROM signatures').get() as { n: number }).n).toBe(1);
    dbB.prepare('DELETE FROM signatures').run();
    expect(await fetchSignatures(dbB, remote, 'origin-test')).toMatchObject({ fetched: 1, rejected: [] });
    expect(await fetchSignatures(dbB, remote, 'origin-test')).toMatchObject({ fetched: 0 });
    dbB.close();
    await remote.close();
    // B trusts the same public key: the signature checks out against B's own copy of the bytes
    writeFile(b, 'release.pub', readFileSync(join(a, 'release.pub')));
    await configSet({ cwd: b, env: apiEnv(), key: 'trust.keys.release', value: 'release.pub', shared: true });
    const v = runCli(b, ['verify', 'fraud@v1', '--signature', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json()).toMatchObject({ ok: true, signedBy: ['release'] });
  });

  it('a bundle filed under another key, or garbage, is rejected and not stored; a different bundle by the same key is kept as the remote has it', async () => {
    const { a, b, remoteDir, versionId } = await twoClones();
    const remote = createDirectoryRemote({ root: remoteDir, displayUrl: remoteDir });
    const dbA = openIndex(join(a, '.modelctl', 'index.db'));
    const row = dbA.prepare('SELECT bundle, key_hint FROM signatures').get() as { bundle: Buffer; key_hint: string };
    await remote.put(signatureKey(versionId, 'signature', 'f'.repeat(64)), row.bundle);
    await remote.put(signatureKey(versionId, 'attestation', 'e'.repeat(64)), Buffer.from('{"not":"a bundle"}'));
    // someone else's signature by the same key got there first
    const other = JSON.parse(row.bundle.toString());
    other.dsseEnvelope.signatures[0].keyid = null;
    await remote.put(signatureKey(versionId, 'signature', row.key_hint), Buffer.from(JSON.stringify(other)));
    const pub = await publishSignatures(dbA, remote, 'another-remote-id', [versionId]);
    expect(pub.alreadyThere).toBe(1);
    expect(pub.warnings).toHaveLength(1);
    dbA.close();
    const dbB = openIndex(join(b, '.modelctl', 'index.db'));
    dbB.prepare('DELETE FROM signatures').run();
    const f = await fetchSignatures(dbB, remote, 'origin-test');
    expect(f.fetched).toBe(1);
    expect(f.rejected.map((r) => r.key).sort()).toEqual([signatureKey(versionId, 'attestation', 'e'.repeat(64)), signatureKey(versionId, 'signature', 'f'.repeat(64))]);
    expect((dbB.prepare('SELECT count(*) AS n FROM signatures').get() as { n: number }).n).toBe(1);
    dbB.close();
    await remote.close();
  });
});
