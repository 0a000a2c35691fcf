/**
 * Which version status compares with, when the work tree's placement record is remembered
 * in the index by its stat key (workspace/placed-version.ts): every change to the record —
 * a checkout's rename, an edit in place that keeps size and mtime, a record made within the
 * racy window, a damaged one — must be read, never answered from the memo.
 */
import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkout } from '../../src/api/checkout.js';
import { commit } from '../../src/api/commit.js';
import { openRepository } from '../../src/api/repository.js';
import { status } from '../../src/api/status.js';
import { tempRepo, writeFile } from '../helpers/temp-repo.js';

const pastRacyWindow = () => new Promise((r) => setTimeout(r, 2100));
const RECORD = '.modelctl/placed/m.json';

/** Two versions of model m (v2 checked out, by its commit), every file older than the racy window. */
async function twoVersions(): Promise<{ root: string; v1: string; v2: string }> {
  const root = tempRepo();
  writeFile(root, 'model/a.bin', 'one');
  const v1 = (await commit({ cwd: root, model: 'm', paths: ['model'], lock: false })).version.id;
  writeFile(root, 'model/a.bin', 'two');
  const v2 = (await commit({ cwd: root, model: 'm', paths: ['model'], lock: false })).version.id;
  await pastRacyWindow();
  return { root, v1, v2 };
}

async function compared(root: string): Promise<{ version: number; checkedOut: number | null; clean: boolean }> {
  const m = (await status({ cwd: root, model: 'm' })).models[0];
  return { version: m.version!.number, checkedOut: m.checkedOut?.number ?? null, clean: m.clean };
}

async function memoRows(root: string): Promise<string[]> {
  const repo = await openRepository({ cwd: root });
  try {
    return (repo.db.prepare("SELECT key FROM meta WHERE key LIKE 'placed\\_version:%' ESCAPE '\\'").all() as { key: string }[]).map((r) => r.key);
  } finally {
    repo.close();
  }
}

describe.concurrent('the placement record memo', () => {
  it('is kept once the record is older than the racy window, and a checkout (a new record) is seen', async () => {
    const { root } = await twoVersions();
    expect(await compared(root)).toEqual({ version: 2, checkedOut: 2, clean: true });
    expect(await memoRows(root)).toEqual(['placed_version:m']);
    await checkout({ cwd: root, ref: 'm@v1', lock: false });
    expect(await compared(root)).toEqual({ version: 1, checkedOut: 1, clean: true });
    await pastRacyWindow();
    expect(await compared(root)).toEqual({ version: 1, checkedOut: 1, clean: true });
    expect(await compared(root)).toEqual({ version: 1, checkedOut: 1, clean: true });
  });

  it('is not kept for a record written within the racy window', async () => {
    const root = tempRepo();
    writeFile(root, 'model/a.bin', 'one');
    await commit({ cwd: root, model: 'm', paths: ['model'], lock: false });
    expect(await compared(root)).toMatchObject({ version: 1, checkedOut: 1 });
    expect(await memoRows(root)).toEqual([]);
  });

  /**
   * Gives the record whole-second times (utimes can set those exactly; a Date or a fraction
   * of a second loses the nanoseconds), waits out the racy window and has status remember it.
   */
  async function rememberedAtWholeSecond(root: string): Promise<{ p: string; t: number }> {
    const p = join(root, RECORD);
    const t = Math.floor(Date.now() / 1000) - 10;
    utimesSync(p, t, t);
    await pastRacyWindow();
    expect(await compared(root)).toMatchObject({ checkedOut: 2 });
    expect(statSync(p, { bigint: true }).mtimeNs).toBe(BigInt(t) * 1_000_000_000n);
    return { p, t };
  }

  it('an edit of the record in place that keeps its size, mtime and inode is read (ctime)', async () => {
    const { root, v1, v2 } = await twoVersions();
    const { p, t } = await rememberedAtWholeSecond(root);
    const before = statSync(p, { bigint: true });
    // Same length: v1's id in place of v2's, the old mtime put back exactly.
    writeFileSync(p, readFileSync(p, 'utf8').replace(v2, v1));
    utimesSync(p, t, t);
    const after = statSync(p, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    expect(await compared(root)).toEqual({ version: 1, checkedOut: 1, clean: false });
  });

  it('a record replaced by another file of the same size and mtime is read', async () => {
    const { root, v1, v2 } = await twoVersions();
    const { p, t } = await rememberedAtWholeSecond(root);
    writeFileSync(`${p}.new`, readFileSync(p, 'utf8').replace(v2, v1));
    utimesSync(`${p}.new`, t, t);
    renameSync(`${p}.new`, p);
    expect(await compared(root)).toEqual({ version: 1, checkedOut: 1, clean: false });
  });

  it('a damaged record is treated as absent (the latest is compared), memo or not', async () => {
    const { root } = await twoVersions();
    await checkout({ cwd: root, ref: 'm@v1', lock: false });
    await pastRacyWindow();
    expect(await compared(root)).toEqual({ version: 1, checkedOut: 1, clean: true });
    const p = join(root, RECORD);
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, text.slice(0, text.length - 3)); // cut short: no longer JSON
    expect(await compared(root)).toEqual({ version: 2, checkedOut: null, clean: false });
    await pastRacyWindow();
    expect(await compared(root)).toEqual({ version: 2, checkedOut: null, clean: false });
  });
});
