/**
 * `serve --json` prints its URL with a trailing slash, so `"$URL/api/models"` sends
 * `//api/models`; URL parsing read that as a host name ("nothing at /models"). Runs of
 * slashes in a request path are one, as most HTTP servers treat them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../helpers/serve.js';
import { runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';

describe('serve: request paths', () => {
  let server: ServeHandle;
  beforeAll(async () => {
    const repo = tempRepo();
    writeFile(repo, 'model/w.bin', 'weights\n');
    expect(runCli(repo, ['commit', 'fraud', 'model/', '-m', 'one']).code).toBe(0);
    server = await startServe(repo);
  }, 60_000);
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it('answers the printed URL joined with /api/… (a doubled slash)', async () => {
    expect(server.url.endsWith('/')).toBe(true);
    const models = await fetch(`${server.url}/api/models`);
    expect(models.status).toBe(200);
    expect(((await models.json()) as { models: { name: string }[] }).models.map((m) => m.name)).toEqual(['fraud']);
    const file = await fetch(`${server.url}/api//versions/fraud@v1/files/model//w.bin?x=a//b`);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe('weights\n');
    expect((await fetch(`${server.url}/api/versions/fraud@v1/files/model/nope`)).status).toBe(404);
  });
});
