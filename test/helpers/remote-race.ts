/**
 * Two repositories racing on one remote, as real child processes: both promote the same
 * stage with `--push` at the same time, or both push a new version of one model at once.
 * The backend-specific parts (how to make both writes really meet, how to read the
 * remote's state) come from a RaceRemote; the rounds and the checks are shared by the
 * directory and RGW suites.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { history } from '../../src/api/history.js';
import { show } from '../../src/api/show.js';
import type { AuditEvent } from '../../src/core/events.js';
import { NotFoundError } from '../../src/errors.js';
import { createDirectoryRemote } from '../../src/remote/directory.js';
import type { Remote } from '../../src/remote/remote.js';
import { commitVersion } from '../integration/lifecycle-helpers.js';
import { runCliAsync, type AsyncRun } from './temp-repo.js';
import type { FaultProxy } from './fault-proxy.js';
import { pseudoRandomBytes, tempDir, tempRepo, writeFile } from './temp-repo.js';

/** Makes two writers' conditional writes of one key meet: `begin` before the commands start, `release` once both wait. */
export interface WriteBarrier {
  /** Resolves when both writers are about to write (they read the remote before). */
  bothWaiting(): Promise<void>;
  release(): void;
}

export interface RaceRemote {
  /** For `modelctl remote add origin <url> …addArgs`. */
  url: string;
  addArgs: string[];
  env: Record<string, string | undefined>;
  /** Holds writes of `key` (relative to the remote root) until two writers are waiting on it. */
  holdWrites(key: string): WriteBarrier;
  /** The remote itself, for reading its state. */
  remote: Remote;
}

/** A barrier for the directory backend: the test holds the key's lock file (as a live process on this host would). */
export function directoryBarrier(root: string, key: string): WriteBarrier {
  const parts = key.split('/');
  const dir = join(root, ...parts.slice(0, -1));
  const lock = join(dir, `.~modelctl-lock-${parts[parts.length - 1]}`);
  // The lock format of src/remote/directory.ts: a live pid on this host is never stale.
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'remote-race-test', created: new Date().toISOString() }), { flag: 'wx' });
  return {
    // A writer writes its temp file beside the key before it waits for the lock: two temp
    // files mean two writers that have both read the remote and now wait to swap.
    bothWaiting: () => waitFor(() => existsSync(dir) && readdirSync(dir).filter((n) => n.startsWith('.~modelctl-tmp-')).length >= 2, 30_000, `two writers waiting on ${key}`),
    release: () => rmSync(lock, { force: true }),
  };
}

/** A fresh directory remote to race on, its writes held by directoryBarrier. */
export function directoryRace(): RaceRemote {
  const root = join(tempDir(), 'registry');
  return { url: root, addArgs: [], env: {}, holdWrites: (key) => directoryBarrier(root, key), remote: createDirectoryRemote({ root }) };
}

/** A barrier for an S3 store behind the fault proxy: the proxy parks both PUTs of the key, then forwards them together. */
export function proxyBarrier(proxy: FaultProxy, bucketPath: string, key: string): WriteBarrier {
  const path = `/${bucketPath}/${key}`;
  const b = proxy.hold((r) => r.method === 'PUT' && r.url.split('?')[0] === path, 2);
  return {
    bothWaiting: () => withTimeout(b.arrived, 30_000, `two PUTs of ${key}`),
    release: () => b.release(),
  };
}

async function waitFor(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

export function expectOk(r: AsyncRun, what: string): void {
  expect(r.timedOut, `${what} hung`).toBe(false);
  expect(r.code, `${what} failed:\n${r.stderr}`).toBe(0);
}

function lastJsonError(r: AsyncRun): { code: string; exitCode: number; message: string } {
  return JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}').error;
}

/** The remote's stage document, or null. */
export async function remoteStage(remote: Remote, model: string, stage: string): Promise<{ version: string; previous: string | null } | null> {
  const got = await remote.get(`models/${model}/stages/${stage}.json`);
  return got ? (JSON.parse(got.body.toString('utf8')) as { version: string; previous: string | null }) : null;
}

/** The remote's events of a model, oldest first. */
export async function remoteEvents(remote: Remote, model: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const o of remote.list(`models/${model}/events/`)) {
    const got = await remote.get(o.key);
    if (got) events.push(JSON.parse(got.body.toString('utf8')) as AuditEvent);
  }
  return events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));
}

/** The remote's number → version id map of a model. */
export async function remoteNumbers(remote: Remote, model: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for await (const o of remote.list(`models/${model}/numbers/`)) {
    const got = await remote.get(o.key);
    const n = Number(/(\d+)\.json$/.exec(o.key)?.[1]);
    if (got) out.set(n, (JSON.parse(got.body.toString('utf8')) as { version: string }).version);
  }
  return out;
}

async function cli(repo: string, args: string[], race: RaceRemote, timeoutMs = 60_000): Promise<AsyncRun> {
  return runCliAsync(repo, args, { env: race.env, timeoutMs });
}

async function jsonOf<T>(repo: string, args: string[], race: RaceRemote): Promise<T> {
  const r = await cli(repo, [...args, '--json'], race);
  expectOk(r, args.join(' '));
  return JSON.parse(r.stdout) as T;
}

/** The version holding the stage in a repository's index, read in-process (no CLI start-up per check). */
async function stageHolderOf(repo: string, model: string, stage: string): Promise<string | null> {
  try {
    return (await show({ cwd: repo, ref: `${model}@${stage}` })).version.id;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

/** Ids of a repository's audit events of a model, read in-process. */
async function localEventIds(repo: string, model: string): Promise<string[]> {
  return (await history({ cwd: repo, model })).events.map((e) => e.id);
}

/** Two repositories on `race`, each with the model's versions v1..v3 known and v1 holding `stage`. */
export async function twoRepositories(race: RaceRemote, model: string, stage: string): Promise<{ a: string; b: string; ids: string[] }> {
  const a = tempRepo();
  const ids: string[] = [];
  // Set-up in-process (the CLI's commit has its own suites); the race itself runs the CLI.
  for (let i = 1; i <= 3; i++) ids.push((await commitVersion(a, model)).id);
  expectOk(await cli(a, ['remote', 'add', 'origin', race.url, ...race.addArgs, '--default'], race), 'remote add');
  expectOk(await cli(a, ['push'], race), 'push');
  expectOk(await cli(a, ['promote', `${model}@v1`, '--to', stage, '--yes', '--push'], race), 'first promotion');
  const b = tempRepo();
  expectOk(await cli(b, ['remote', 'add', 'origin', race.url, ...race.addArgs, '--default'], race), 'remote add');
  expectOk(await cli(b, ['fetch'], race), 'fetch');
  return { a, b, ids };
}

export interface StageRaceTally {
  rounds: number;
  contested: number;
}

/**
 * `rounds` rounds of: both repositories promote a different version to `stage` with
 * --push, at the same time (the barrier makes both read the remote before either writes).
 * Each round exactly one exits 0 and the other 4 (STAGE_MOVED) having changed nothing —
 * no local event of its own, its stage pointer where the remote had it, the remote's
 * stage the winner's; the loser then fetches, as its hint says. A last, serialized round:
 * one promotes, then the other (not having fetched) promotes after it ended, and loses too. At the end, after a fetch, both histories verify and equal the
 * remote's events, whose stage moves are exactly the winners', in order.
 */
export async function raceStagePromotions(race: RaceRemote, rounds: number): Promise<StageRaceTally> {
  const model = 'race';
  const stage = 'production';
  const { a, b, ids } = await twoRepositories(race, model, stage);
  const winners: string[] = [ids[0]!];
  let holder = ids[0]!;
  for (let round = 0; round < rounds; round++) {
    const others = ids.filter((id) => id !== holder);
    const [targetA, targetB] = round % 2 === 0 ? [others[0]!, others[1]!] : [others[1]!, others[0]!];
    const barrier = race.holdWrites(`models/${model}/stages/${stage}.json`);
    const args = (id: string) => ['promote', `${model}@${id}`, '--to', stage, '--yes', '--push', '--reason', `round ${round}`, '--json'];
    const runs = Promise.all([cli(a, args(targetA), race), cli(b, args(targetB), race)]);
    try {
      await barrier.bothWaiting();
    } finally {
      barrier.release();
    }
    const [ra, rb] = await runs;
    expect(ra.timedOut || rb.timedOut, 'a promotion hung').toBe(false);
    const codes = [ra.code, rb.code].sort();
    expect(codes, `round ${round}: exactly one must win\nA: ${ra.stderr}\nB: ${rb.stderr}`).toEqual([0, 4]);
    const [winRepo, loseRepo, winTarget, loseTarget, loseRun] = ra.code === 0 ? [a, b, targetA, targetB, rb] : [b, a, targetB, targetA, ra];
    expect(lastJsonError(loseRun).code).toBe('STAGE_MOVED');
    // The remote holds the winner's move, with the holder it replaced.
    expect(await remoteStage(race.remote, model, stage)).toMatchObject({ version: winTarget, previous: holder });
    expect(await stageHolderOf(winRepo, model, stage)).toBe(winTarget);
    // The loser changed nothing: its pointer is where the remote had it before the round,
    // and every event it holds is on the remote (none of its own was recorded).
    expect(await stageHolderOf(loseRepo, model, stage)).toBe(holder);
    const remoteIds = new Set((await remoteEvents(race.remote, model)).map((e) => e.id));
    const loserIds = await localEventIds(loseRepo, model);
    expect(loserIds.filter((id) => !remoteIds.has(id))).toEqual([]);
    void loseTarget;
    // The loser was told to fetch, then retry: it does (its next --push would be stale otherwise).
    expectOk(await cli(loseRepo, ['fetch'], race), 'fetch after losing');
    winners.push(winTarget);
    holder = winTarget;
  }
  // Serialized: the second promotion starts after the first ended, from a repository that
  // has not fetched since. It is just as stale as a concurrent loser: exit 4, nothing changed.
  {
    const [first, late] = [a, b];
    const [t1, t2] = ids.filter((id) => id !== holder) as [string, string];
    expectOk(await cli(first, ['promote', `${model}@${t1}`, '--to', stage, '--yes', '--push', '--json'], race), 'serialized first promotion');
    const lost = await cli(late, ['promote', `${model}@${t2}`, '--to', stage, '--yes', '--push', '--json'], race);
    expect(lost.code, `the stale promotion must lose although it ran after the other:\n${lost.stderr}`).toBe(4);
    expect(lastJsonError(lost).code).toBe('STAGE_MOVED');
    expect(await remoteStage(race.remote, model, stage)).toMatchObject({ version: t1, previous: holder });
    expect(await stageHolderOf(late, model, stage)).toBe(holder);
    winners.push(t1);
    holder = t1;
  }
  // No event lost: after a fetch both repositories hold exactly the remote's events, their
  // chains verify, and the remote's stage moves are the winners', in order.
  const events = await remoteEvents(race.remote, model);
  const moves = events.filter((e) => (e.action === 'promote' || e.action === 'rollback') && e.data.stage === stage);
  expect(moves.map((e) => e.to)).toEqual(winners);
  for (const repo of [a, b]) {
    expectOk(await cli(repo, ['fetch'], race), 'fetch');
    expectOk(await cli(repo, ['history', '--verify'], race), 'history --verify');
    expect(new Set(await localEventIds(repo, model))).toEqual(new Set(events.map((e) => e.id)));
    expect(await stageHolderOf(repo, model, stage)).toBe(holder);
  }
  return { rounds, contested: rounds };
}

/**
 * `rounds` rounds of: both repositories (in sync) commit a new version of one model — the
 * same next number locally — and push at once. Every version gets its own number on the
 * remote; the loser is renumbered (and says so); afterwards both repositories agree.
 */
export async function raceVersionNumbers(race: RaceRemote, rounds: number, barrierOn?: (model: string, n: number) => WriteBarrier): Promise<{ rounds: number; renumbered: number }> {
  const model = 'numbers';
  const a = tempRepo();
  const b = tempRepo();
  for (const repo of [a, b]) expectOk(await cli(repo, ['remote', 'add', 'origin', race.url, ...race.addArgs, '--default'], race), 'remote add');
  let renumbered = 0;
  let seed = 1000;
  for (let round = 0; round < rounds; round++) {
    const next = round * 2 + 1; // both repositories are in sync: the same next number
    const made: string[] = [];
    for (const repo of [a, b]) {
      writeFile(repo, 'm/weights.bin', pseudoRandomBytes(32 * 1024, seed++));
      const c = await jsonOf<{ version: { id: string; number: number } }>(repo, ['commit', model, 'm', '-m', `round ${round}`], race);
      expect(c.version.number).toBe(next);
      made.push(c.version.id);
    }
    const barrier = barrierOn?.(model, next);
    const runs = Promise.all([cli(a, ['push', '--json'], race), cli(b, ['push', '--json'], race)]);
    if (barrier) {
      try {
        await barrier.bothWaiting();
      } finally {
        barrier.release();
      }
    }
    const [ra, rb] = await runs;
    expectOk(ra, 'push A');
    expectOk(rb, 'push B');
    const outs = [JSON.parse(ra.stdout), JSON.parse(rb.stdout)] as { renumbered: { id: string; from: number; to: number }[] }[];
    const moved = outs.flatMap((o) => o.renumbered);
    expect(moved, `round ${round}: exactly one version renumbered`).toHaveLength(1);
    expect(moved[0]).toMatchObject({ from: next, to: next + 1 });
    renumbered++;
    const numbers = await remoteNumbers(race.remote, model);
    expect(new Set([numbers.get(next), numbers.get(next + 1)])).toEqual(new Set(made));
    // Both in sync again for the next round.
    for (const repo of [a, b]) expectOk(await cli(repo, ['fetch'], race), 'fetch');
  }
  const numbers = await remoteNumbers(race.remote, model);
  expect([...numbers.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: rounds * 2 }, (_, i) => i + 1));
  expect(new Set(numbers.values()).size).toBe(rounds * 2);
  for (const repo of [a, b]) {
    const log = await jsonOf<{ versions: { id: string; number: number }[] } | { id: string; number: number }[]>(repo, ['log', model], race);
    const versions = Array.isArray(log) ? log : log.versions;
    expect(versions).toHaveLength(rounds * 2);
    for (const v of versions) expect(numbers.get(v.number)).toBe(v.id);
    expectOk(await cli(repo, ['history', '--verify'], race), 'history --verify');
  }
  return { rounds, renumbered };
}


/**
 * `rounds` rounds of: both repositories create the same new tag name on different
 * versions with `tag --push`, at once. Tags are create-only: exactly one exits 0; the
 * other exits 4 (TAG_EXISTS when it saw the winner's tag, TAG_MOVED when both read it
 * absent and its create lost) and made no tag of its own; the remote's tag is the winner's.
 */
export async function raceTags(race: RaceRemote, rounds: number, barrierOn?: (key: string) => WriteBarrier): Promise<{ rounds: number; lostCreates: number }> {
  const model = 'tags';
  const { a, b, ids } = await twoRepositories(race, model, 'staging');
  let lostCreates = 0;
  for (let round = 0; round < rounds; round++) {
    const name = `release-${round}`;
    const [targetA, targetB] = [ids[round % 3]!, ids[(round + 1) % 3]!];
    const barrier = barrierOn?.(`models/${model}/tags/${name}.json`);
    const runs = Promise.all([cli(a, ['tag', `${model}@${targetA}`, name, '--push', '--json'], race), cli(b, ['tag', `${model}@${targetB}`, name, '--push', '--json'], race)]);
    if (barrier) {
      try {
        await barrier.bothWaiting();
      } finally {
        barrier.release();
      }
    }
    const [ra, rb] = await runs;
    expect([ra.code, rb.code].sort(), `round ${round}: exactly one must win\nA: ${ra.stderr}\nB: ${rb.stderr}`).toEqual([0, 4]);
    const [winTarget, loseRepo, loseRun] = ra.code === 0 ? [targetA, b, rb] : [targetB, a, ra];
    const code = lastJsonError(loseRun).code;
    expect(['TAG_EXISTS', 'TAG_MOVED']).toContain(code);
    if (code === 'TAG_MOVED') lostCreates++;
    const got = await race.remote.get(`models/${model}/tags/${name}.json`);
    expect(got && (JSON.parse(got.body.toString('utf8')) as { version: string }).version).toBe(winTarget);
    // The loser's own tag was never made: it has none, or (when its fetch saw the winner's
    // tag before it tried) the winner's.
    const loserTag = await stageHolderOf(loseRepo, model, name);
    if (loserTag !== null) expect(loserTag).toBe(winTarget);
  }
  for (const repo of [a, b]) {
    expectOk(await cli(repo, ['fetch'], race), 'fetch');
    expectOk(await cli(repo, ['history', '--verify'], race), 'history --verify');
    const tags = await jsonOf<unknown>(repo, ['tags', model], race);
    expect(JSON.stringify(tags)).toContain(`release-${rounds - 1}`);
  }
  return { rounds, lostCreates };
}
