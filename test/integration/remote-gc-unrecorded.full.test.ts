/**
 * A tombstone whose `remove` event was never published (docs/design.md §16). A gc or rm
 * writes the tombstone, then publishes its event; killed between the two, the version is
 * removed on no record: fetch skips the tombstoned number, and no history shows the removal.
 * The remote gc soak found one (seed 22365 on RGW, 3 December). The next gc publishes an
 * event for each such tombstone older than a lease, and only once.
 */
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitIn, fetchIn, pushIn, remoteAddIn } from '../helpers/setup-api.js';
import { pseudoRandomBytes, runCli, tempDir, tempRepo, writeFile } from '../helpers/temp-repo.js';

/** The tombstone a killed gc leaves: written, its event never published. */
function orphanTombstone(registry: string, number: number, version: string, ageS: number): string {
  const at = new Date(Date.now() - ageS * 1000);
  mkdirSync(join(registry, 'models/m/removed'), { recursive: true });
  const p = join(registry, 'models/m/removed', `${number}.json`);
  const doc = { version, number, reason: 'retention: not among the newest 1', actor: 'gc-that-died', at: at.toISOString(), event: 'e'.repeat(64) };
  writeFileSync(p, JSON.stringify(doc));
  utimesSync(p, at, at);
  return p;
}

const removeEvents = (repo: string) =>
  (runCli(repo, ['history', 'm', '--json']).json() as { action: string; version: string; data: Record<string, unknown> }[]).filter((e) => e.action === 'remove');

describe('remote gc records removals a killed gc or rm left unrecorded', () => {
  it('publishes a remove event for a tombstone older than a lease that has none; a young one is left to its writer; a second gc records nothing', async () => {
    const a = tempRepo();
    const registry = join(tempDir(), 'registry');
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      writeFile(a, 'w.bin', pseudoRandomBytes(20_000, i));
      ids.push(await commitIn(a, 'm', ['w.bin'], `v${i}`));
    }
    await remoteAddIn(a, 'origin', registry, { default: true });
    await pushIn(a);
    // Arranged by hand: what `gc` leaves when killed between its two writes, for v1 an hour
    // ago, and for v2 just now (its writer may still be about to publish).
    orphanTombstone(registry, 1, ids[0]!, 3600);
    orphanTombstone(registry, 2, ids[1]!, 0);
    const events = () => readdirSync(join(registry, 'models/m/events')).length;
    const before = events();

    // A clone sees neither version, and no history says why: the gap.
    const b = tempRepo();
    await remoteAddIn(b, 'origin', registry, { default: true });
    await fetchIn(b);
    expect(removeEvents(b)).toEqual([]);

    const dry = runCli(a, ['gc', '--remote', 'origin', '--grace', '0s', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json().unrecordedRemovals).toEqual([{ model: 'm', number: 1, id: ids[0] }]);
    expect(events()).toBe(before);

    const gc = runCli(a, ['gc', '--remote', 'origin', '--grace', '0s', '--yes']);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toContain(`recorded the removal of m@v1 (${ids[0]!.slice(0, 12)}): its tombstone had no remove event`);
    expect(events()).toBe(before + 1);

    await fetchIn(b);
    expect(removeEvents(b)).toEqual([expect.objectContaining({ version: ids[0], data: expect.objectContaining({ number: 1, tombstoneEvent: 'e'.repeat(64) }) })]);
    expect(runCli(b, ['history', '--verify']).code).toBe(0);
    // The tombstone stays (its number is never given again), and the event is recorded once.
    expect(existsSync(join(registry, 'models/m/removed/1.json'))).toBe(true);
    const again = runCli(a, ['gc', '--remote', 'origin', '--grace', '0s', '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().unrecordedRemovals).toEqual([]);
    expect(events()).toBe(before + 1);
    // v3, on no tombstone, still pulls.
    const out = tempDir();
    expect(runCli(out, ['pull', 'm@v3', '--remote', registry, '--out', 'o']).code).toBe(0);
  });
});
