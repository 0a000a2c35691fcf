/**
 * `modelctl serve` when a client resets its connection mid-download (a `curl … | tar -t |
 * head` pipeline whose reader stopped: the socket closes with unread data, so the kernel
 * sends RST and the server's next write fails with ECONNRESET or EPIPE). That is a client
 * going away, not a bug in modelctl: the server must not log it as an internal error with a
 * stack trace. Found by running `curl -s $API/versions/face@v1/tar | tar -t | head -3`
 * against a served repository of real model files.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../helpers/serve.js';
import { pseudoRandomBytes, runCli, tempRepo, writeFile } from '../helpers/temp-repo.js';

let repo: string;
let server: ServeHandle;

beforeAll(async () => {
  repo = tempRepo();
  // Many files, as a real model has (the reset races the server's writes between them), and
  // big enough that the server is still writing when the reset arrives.
  writeFile(repo, 'model/weights.bin', pseudoRandomBytes(24 * 1024 * 1024, 7));
  for (let i = 0; i < 16; i++) writeFile(repo, `model/shard-${i}.bin`, pseudoRandomBytes(400_000, 100 + i));
  const committed = runCli(repo, ['commit', 'big', 'model', '-m', 'big']);
  expect(committed.code, committed.stderr).toBe(0);
  server = await startServe(repo);
}, 120_000);

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

/** Sends GET `path`, reads `after` bytes as fast as they come, then resets the connection (RST, unread bytes pending). */
function getThenReset(path: string, after: number): Promise<void> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
    });
    let got = 0;
    socket.on('data', (b: Buffer) => {
      got += b.length;
      if (got < after || socket.destroyed) return;
      socket.resetAndDestroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

describe('serve: a client that resets its connection mid-download', () => {
  it('is not logged as an internal error, for a file or a version tar, and the server keeps serving', async () => {
    // The race is lost now and then, not every time: enough tries that the old code fails.
    for (let round = 0; round < 8; round++) {
      for (const after of [1, 100_000, 1024 * 1024, 3 * 1024 * 1024]) {
        await getThenReset('/api/versions/big@v1/tar', after);
        await getThenReset('/api/versions/big@v1/files/model/weights.bin', after);
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(server.stderr()).not.toMatch(/internal error|INTERNAL|ECONNRESET|EPIPE/);
    const after = await fetch(new URL('api/versions/big%40v1/files/model/weights.bin', server.url));
    expect(after.status).toBe(200);
    expect(Buffer.from(await after.arrayBuffer()).length).toBe(24 * 1024 * 1024);
  });
});
