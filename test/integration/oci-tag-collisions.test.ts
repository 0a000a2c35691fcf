/**
 * Two modelctl tags that are one OCI tag (`+` becomes `_`: `1.0+cuda` and `1.0_cuda`), through
 * the built CLI against Debian's docker-registry (distribution 2.8) started here: a fetch maps
 * the OCI tag back to the tag it was pushed from and keeps the local tag of the other name;
 * `tag --push` and `push` of colliding tags are refused (exit 2, both tags and the OCI tag
 * named) before anything changes on the registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/remote/oci/registry-client.js';
import { RegistryRepository } from '../../src/remote/oci/registry-repository.js';
import { registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { commitIn, remoteAddIn, tagIn } from '../helpers/setup-api.js';
import { runCliAsync, tempRepo, writeFile, type AsyncRun } from '../helpers/temp-repo.js';

let reg: RegistryHandle;

function cli(cwd: string, args: string[]): Promise<AsyncRun> {
  return runCliAsync(cwd, args, { timeoutMs: 120_000 });
}

/**
 * A repository with model `tiny` at v1 and v2, and the registry remote `hub` under `prefix`.
 * Arranged through the Node API (setup-api.ts); the pushes and fetches to the registry run through the CLI.
 */
async function twoVersions(prefix: string): Promise<string> {
  const a = tempRepo();
  writeFile(a, 'a.bin', 'a\n');
  await commitIn(a, 'tiny', ['a.bin'], 'a');
  writeFile(a, 'b.bin', 'b\n');
  await commitIn(a, 'tiny', ['a.bin', 'b.bin'], 'b');
  await remoteAddIn(a, 'hub', `${reg.url}/${prefix}`);
  return a;
}

/** What the registry holds for `tiny` under `prefix`: every OCI tag and the digest it names. */
async function registryState(prefix: string): Promise<Record<string, string | null>> {
  const client = new RegistryClient({ registry: reg.host, plainHttp: true, credentials: null });
  try {
    const r = new RegistryRepository(client, `${prefix}/tiny`);
    const out: Record<string, string | null> = {};
    for (const t of (await r.listTags()).sort()) out[t] = await r.headManifest(t);
    return out;
  } finally {
    client.close();
  }
}

async function tagsOf(dir: string): Promise<Record<string, number>> {
  const t = await cli(dir, ['tags', 'tiny', '--json']);
  expect(t.code, t.stderr).toBe(0);
  return Object.fromEntries(t.json().tags.map((x: { name: string; number: number }) => [x.name, x.number]));
}

describe.skipIf(!registryAvailable())('oci:// tags that share an OCI tag', () => {
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'none' });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('fetch maps the OCI tag back to the tag pushed under it and keeps the local tag of the colliding name; push then refuses the pair', async () => {
    const a = await twoVersions('t2');
    expect((await cli(a, ['push', '--remote', 'hub'])).code).toBe(0);
    const pushed = await cli(a, ['tag', 'tiny@v1', '1.0+cuda', '--push', '--remote', 'hub']);
    expect(pushed.code, pushed.stderr).toBe(0);
    await tagIn(a, 'tiny@v2', '1.0_cuda'); // a local tag (set-up, Node API)
    const before = await registryState('t2');
    expect(before['1.0_cuda']).toBe(before.v1);

    const fetched = await cli(a, ['fetch', '--remote', 'hub', '--json']);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.json().warnings.join('\n')).not.toContain('moved locally');
    expect(await tagsOf(a)).toEqual({ '1.0+cuda': 1, '1.0_cuda': 2 });
    const tagEvents = (await cli(a, ['history', 'tiny', '--json'])).json();
    const events: { action: string }[] = Array.isArray(tagEvents) ? tagEvents : tagEvents.events;
    expect(events.filter((e) => e.action === 'tag-delete')).toEqual([]);

    // The pair cannot both be on the registry: push says so and writes nothing.
    const push = await cli(a, ['push', '--remote', 'hub', '--json']);
    expect(push.code).toBe(2);
    const err = push.error();
    expect(err.code).toBe('OCI_TAG_COLLISION');
    expect(err.message).toContain('1.0+cuda');
    expect(err.message).toContain('1.0_cuda');
    expect(err.data).toEqual(expect.objectContaining({ ociTag: '1.0_cuda', tags: ['1.0+cuda', '1.0_cuda'] }));
    expect(err.hint).toMatch(/rename/i);
    expect(await registryState('t2')).toEqual(before);

    // A second fetch still keeps both.
    expect((await cli(a, ['fetch', '--remote', 'hub'])).code).toBe(0);
    expect(await tagsOf(a)).toEqual({ '1.0+cuda': 1, '1.0_cuda': 2 });
  });

  it('tag --push of a tag whose OCI tag another tag has is refused before anything is written', async () => {
    const a = await twoVersions('t3');
    expect((await cli(a, ['tag', 'tiny@v1', '1.0.0+cuda', '--push', '--remote', 'hub'])).code).toBe(0);
    const before = await registryState('t3');
    expect(before.v2).toBeUndefined();

    const refused = await cli(a, ['tag', 'tiny@v2', '1.0.0_cuda', '--push', '--remote', 'hub', '--json']);
    expect(refused.code).toBe(2);
    const err = refused.error();
    expect(err.code).toBe('OCI_TAG_COLLISION');
    expect(err.data).toEqual(expect.objectContaining({ ociTag: '1.0.0_cuda', tags: ['1.0.0+cuda', '1.0.0_cuda'] }));
    expect(await registryState('t3')).toEqual(before); // not even v2 was pushed
    expect(await tagsOf(a)).toEqual({ '1.0.0+cuda': 1 });
    // Under another name it goes through, and push has nothing left to refuse.
    expect((await cli(a, ['tag', 'tiny@v2', '1.0.0-cuda.2', '--push', '--remote', 'hub'])).code).toBe(0);
    const push = await cli(a, ['push', '--remote', 'hub']);
    expect(push.code, push.stderr).toBe(0);
  });

  it('push of a model whose local tags collide is refused before any version is uploaded', async () => {
    const a = await twoVersions('t4');
    // Local tags, arranged through the Node API (setup-api.ts).
    await tagIn(a, 'tiny@v1', 'x+1');
    await tagIn(a, 'tiny@v2', 'x_1');
    const push = await cli(a, ['push', '--remote', 'hub', '--json']);
    expect(push.code).toBe(2);
    expect(push.error().data).toEqual(expect.objectContaining({ ociTag: 'x_1', tags: ['x+1', 'x_1'] }));
    expect(await registryState('t4')).toEqual({});
  });
});
