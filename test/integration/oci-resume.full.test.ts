/**
 * Interrupted transfers to and from an OCI registry resume (docs/design.md §13): a push
 * killed after the registry confirmed a chunk of a big file sends only the rest when run
 * again (the upload's Location was kept in the index); a repository-less pull killed while
 * a blob streams continues it with Range; both end with the same bytes, verified.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryAvailable, startRegistry, type RegistryHandle } from '../helpers/oci-registry.js';
import { BIN, cliEnv, pseudoRandomBytes, runCliAsync, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

let reg: RegistryHandle;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

/** Runs the CLI until it reaches test barrier `name`, then kills it (SIGKILL: nothing gets to clean up). */
async function killAtBarrier(cwd: string, args: string[], name: string, env: Record<string, string>): Promise<void> {
  const barriers = tempDir('modelctl-barrier-');
  writeFileSync(join(barriers, `${name}.wait`), '');
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv({ CI: '1', ...env, MODELCTL_TEST_BARRIER_DIR: barriers }), stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!existsSync(join(barriers, `${name}.reached`))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the command never reached ${name} (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  process.kill(child.pid!, 'SIGKILL');
  await exited;
  rmSync(barriers, { recursive: true, force: true });
}

describe.skipIf(!registryAvailable())('interrupted OCI transfers', () => {
  it('a killed push resumes from the last confirmed chunk; a killed pull resumes its blob with Range', async () => {
    const a = tempRepo();
    const big = pseudoRandomBytes(6 * CHUNK + 12345, 77);
    writeFile(a, 'model/weights.safetensors', big);
    writeFile(a, 'model/config.json', '{"layers":12}');
    const env = { MODELCTL_OCI_CHUNK_BYTES: String(CHUNK) };
    expect((await runCliAsync(a, ['commit', 'big', 'model'])).code).toBe(0);
    const url = `${reg.url}/resume`;

    await killAtBarrier(a, ['push', '--remote', url], 'oci-upload-chunk', env);
    const resumed = await runCliAsync(a, ['push', '--remote', url, '--json'], { env, timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const r = JSON.parse(resumed.stdout);
    expect(r.versions[0].status).toBe('uploaded');
    // One chunk was confirmed before the kill: the rest is what this push sent (and the small
    // file, unless the killed push had sent it already).
    expect([0, Buffer.byteLength('{"layers":12}')]).toContain(r.bytesUploaded - (big.length - CHUNK));

    const ci = tempDir();
    mkdirSync(join(ci, 'out'));
    await killAtBarrier(ci, ['pull', 'big@v1', '--remote', url, '--out', 'out', '--jobs', '1'], 'oci-download-bytes', {});
    expect(existsSync(join(ci, 'out', '.modelctl-pull'))).toBe(true); // the resume point stayed
    const pulled = await runCliAsync(ci, ['pull', 'big@v1', '--remote', url, '--out', 'out', '--json'], { timeoutMs: 120_000 });
    expect(pulled.code, pulled.stderr).toBe(0);
    const p = JSON.parse(pulled.stdout);
    expect(p.download.bytesDownloaded).toBeLessThan(big.length);
    expect(readFileSync(join(ci, 'out/model/weights.safetensors')).equals(big)).toBe(true);
    expect(existsSync(join(ci, 'out', '.modelctl-pull'))).toBe(false);
  });
});
