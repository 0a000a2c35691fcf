/**
 * Crash harness: starts a modelctl command on realistic data (several files, tens of MiB),
 * kills it with SIGKILL after a random delay, then checks what a crash may never break:
 *
 *   - `verify` is clean (exit 0) and `history --verify` holds;
 *   - the index agrees with the store: every object row has its file, every file under
 *     objects/ hashes to its name (no temp file is visible as an object), and every version
 *     a committing command created has all its objects;
 *   - every version whose command exited 0 before the kill checks out byte-identical;
 *   - on a directory remote, no reference points at something absent (numbers → manifests
 *     → file lists → chunks) and every chunk hashes to its name;
 *   - running the same command again completes (exit 0) with the expected result.
 *
 * Used by test/crash/crash.full.test.ts (a reduced count in `npm run test:full`) and by
 * test/crash/torture.ts (`npm run torture`, 200 trials and a tally).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyEventChain } from '../../src/store/events-table.js';
import { cliEnv } from '../helpers/cli-env.js';

/** The CLI under test; MODELCTL_CRASH_BIN points a long torture run at a build nobody rebuilds meanwhile. */
export const BIN = process.env.MODELCTL_CRASH_BIN ?? fileURLToPath(new URL('../../bin/modelctl.js', import.meta.url));
const require = createRequire(import.meta.url);

export type CrashCommand = 'commit' | 'push' | 'pull' | 'promote-push' | 'gc';
export const CRASH_COMMANDS: CrashCommand[] = ['commit', 'push', 'pull', 'gc', 'promote-push'];

export interface CrashOptions {
  /** Trials per command. */
  trialsPerCommand: number;
  commands?: CrashCommand[];
  /** Files per version and the size of each (MiB). */
  files?: number;
  fileMiB?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface TrialOutcome {
  command: CrashCommand;
  trial: number;
  delayMs: number;
  /** The process was still running when SIGKILL was sent. */
  killed: boolean;
  /** It had visibly started its work (temp files, objects, remote files, index rows changed). */
  midWork: boolean;
  failures: string[];
}

export interface CrashTally {
  seed: number;
  perCommand: Record<string, { trials: number; killed: number; midWork: number; completedBeforeKill: number; failures: number }>;
  trials: number;
  killed: number;
  midWork: number;
  failures: { command: CrashCommand; trial: number; delayMs: number; failures: string[] }[];
  seconds: number;
}

// ---------------------------------------------------------------- small utilities

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const CLI_ENV = { CI: '1', NO_COLOR: '1', MODELCTL_GC_GRACE_SECONDS: '0' };

function cli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: cliEnv({ ...CLI_ENV, ...env }),
    input: '',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = cli(cwd, args, env);
  if (r.code !== 0) throw new Error(`setup: modelctl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A deterministic PRNG (mulberry32) so a failing trial can be replayed with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const d of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (d.isFile()) out.push(join(d.parentPath, d.name));
  }
  return out;
}

/** Writes `count` files of `mib` MiB of fresh random bytes; returns rel path → sha256. */
function writeModelFiles(root: string, folder: string, count: number, mib: number): Record<string, string> {
  const hashes: Record<string, string> = {};
  rmSync(join(root, folder), { recursive: true, force: true });
  mkdirSync(join(root, folder), { recursive: true });
  for (let i = 0; i < count; i++) {
    // Sizes differ a little so files are not chunk-aligned copies of each other.
    const bytes = randomBytes(Math.round(mib * 1024 * 1024) + i * 4099);
    const rel = `${folder}/weights-${i}.bin`;
    writeFileSync(join(root, rel), bytes);
    hashes[rel] = sha256(bytes);
  }
  const cfg = Buffer.from(JSON.stringify({ layers: count, seed: randomBytes(4).toString('hex') }));
  writeFileSync(join(root, `${folder}/config.json`), cfg);
  hashes[`${folder}/config.json`] = sha256(cfg);
  return hashes;
}

function hashesOf(dir: string, expected: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [rel, digest] of Object.entries(expected)) {
    const p = join(dir, rel);
    if (!existsSync(p)) problems.push(`${rel} missing`);
    else if (sha256(readFileSync(p)) !== digest) problems.push(`${rel} differs`);
  }
  return problems;
}

// ---------------------------------------------------------------- invariants

/** Every invariant of a local repository after a crash; returns the broken ones. */
export async function checkRepository(repo: string, opts: { metadataOnlyAllowed?: number[] } = {}): Promise<string[]> {
  const problems: string[] = [];
  // The built CLI, like the command under test: an in-process verify would run the sources
  // loaded when the harness started, which can differ from a dist/ rebuilt since.
  const v = cli(repo, ['verify', '--json']);
  if (v.code !== 0) problems.push(`verify exited ${v.code}: ${(v.stderr || v.stdout).trim().slice(0, 400)}`);

  const meta = join(repo, '.modelctl');
  const objectsDir = join(meta, 'objects');
  // No temp file (or anything else) visible as an object: every name is a digest and hashes to it.
  const onDisk = new Set<string>();
  for (const p of filesUnder(objectsDir)) {
    const rel = relative(objectsDir, p).split('/').join('');
    if (!/^[0-9a-f]{64}$/.test(rel)) {
      problems.push(`stray file under objects/: ${relative(meta, p)}`);
      continue;
    }
    onDisk.add(rel);
  }
  // (verify re-hashed every object above; a corrupt one makes it exit 6.)
  const Sqlite = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Sqlite(join(meta, 'index.db'), { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 30000');
    const chainBreak = verifyEventChain(db);
    if (chainBreak) problems.push(`history --verify: ${chainBreak.message}`);
    for (const { digest } of db.prepare('SELECT digest FROM objects').all() as { digest: string }[]) {
      if (!onDisk.has(digest)) problems.push(`index row for object ${digest.slice(0, 12)} without its file`);
    }
    // Every version is whole except those gc thinned (their bytes are on a remote) and those
    // the scenario allows to be metadata-only (fetched, not yet pulled).
    const versions = db.prepare('SELECT v.id, v.number FROM versions v').all() as { id: string; number: number }[];
    const thinned = new Set<string>();
    for (const r of db.prepare("SELECT payload FROM events WHERE action = 'gc'").all() as { payload: string }[]) {
      for (const id of (JSON.parse(r.payload).data?.thinnedVersions ?? []) as string[]) thinned.add(id);
    }
    const filesOf = db.prepare('SELECT path, digest FROM files WHERE version_id = ?');
    for (const { id, number } of versions) {
      if (thinned.has(id) || opts.metadataOnlyAllowed?.includes(number)) continue;
      for (const f of filesOf.all(id) as { path: string; digest: string }[]) {
        if (!onDisk.has(f.digest)) problems.push(`version ${id.slice(0, 12)} lacks the object of ${f.path}`);
      }
    }
  } finally {
    db.close();
  }
  return problems;
}

/**
 * A directory remote as a reader sees it: every number names a manifest that is there,
 * every file of it has its chunk list and chunks, every chunk hashes to its name, and
 * every stage/tag names a version whose number is there.
 */
export function checkDirectoryRemote(remote: string): string[] {
  const problems: string[] = [];
  if (!existsSync(remote)) return problems;
  const visible = filesUnder(remote).filter((p) => !relative(remote, p).split('/').some((s) => s.startsWith('.~modelctl-')));
  const key = (p: string) => relative(remote, p).split('/').join('/');
  const keys = new Set(visible.map(key));
  for (const k of keys) {
    const m = /^chunks\/([0-9a-f]{64})$/.exec(k);
    if (m && sha256(readFileSync(join(remote, k))) !== m[1]) problems.push(`remote chunk ${m[1].slice(0, 12)} does not hash to its name`);
  }
  const numbered = new Set<string>();
  for (const k of keys) {
    if (!/^models\/.+\/numbers\/\d+\.json$/.test(k)) continue;
    const id = JSON.parse(readFileSync(join(remote, k), 'utf8')).version as string;
    numbered.add(id);
    const vk = `versions/${id}.json`;
    if (!keys.has(vk)) {
      problems.push(`remote ${k} names ${id.slice(0, 12)} but ${vk} is absent`);
      continue;
    }
    const bytes = readFileSync(join(remote, vk));
    if (sha256(bytes) !== id) problems.push(`remote ${vk} does not hash to its id`);
    const manifest = JSON.parse(bytes.toString('utf8')) as { files: { path: string; size: number; digest: string; chunk?: string }[] };
    for (const f of manifest.files) {
      if (f.size === 0) continue;
      const chunks: string[] = [];
      if (f.chunk) chunks.push(f.chunk);
      else {
        const lk = `files/${f.digest}.json`;
        if (!keys.has(lk)) {
          problems.push(`remote version ${id.slice(0, 12)} needs ${lk}, absent`);
          continue;
        }
        for (const [d] of JSON.parse(readFileSync(join(remote, lk), 'utf8')).chunks as [string, number][]) chunks.push(d);
      }
      for (const d of chunks) if (!keys.has(`chunks/${d}`)) problems.push(`remote version ${id.slice(0, 12)} needs chunk ${d.slice(0, 12)} (${f.path}), absent`);
    }
  }
  for (const k of keys) {
    if (!/^models\/.+\/(stages|tags)\/[^/]+\.json$/.test(k)) continue;
    const id = JSON.parse(readFileSync(join(remote, k), 'utf8')).version as string;
    if (!numbered.has(id)) problems.push(`remote ${k} names ${id.slice(0, 12)}, which has no number there`);
  }
  return problems;
}

/** Checks a version out of `repo` into a fresh folder and compares it with the expected hashes. */
function checkoutMatches(repo: string, ref: string, expected: Record<string, string>, label: string): string[] {
  const out = mkdtempSync(join(tmpdir(), 'modelctl-crash-out-'));
  try {
    const r = cli(repo, ['checkout', ref, '--out', out, '--force']);
    if (r.code !== 0) return [`${label}: checkout ${ref} exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`];
    return hashesOf(out, expected).map((p) => `${label}: ${ref}: ${p}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Pulls a version from a directory remote with no repository (a reader) and compares it. */
function remotePullMatches(remote: string, ref: string, expected: Record<string, string>, label: string): string[] {
  const out = mkdtempSync(join(tmpdir(), 'modelctl-crash-reader-'));
  try {
    const r = cli(out, ['pull', ref, '--remote', `file://${remote}`, '--out', 'files']);
    if (r.code !== 0) return [`${label}: reader pull ${ref} exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`];
    return hashesOf(join(out, 'files'), expected).map((p) => `${label}: ${ref}: ${p}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function indexScalar(repo: string, sql: string, ...args: unknown[]): unknown {
  const Sqlite = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Sqlite(join(repo, '.modelctl', 'index.db'), { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 30000');
    const row = db.prepare(sql).get(...args) as Record<string, unknown> | undefined;
    return row ? Object.values(row)[0] : undefined;
  } finally {
    db.close();
  }
}

/** A cheap fingerprint of "work has started": counts and sizes of what a command writes. */
function fingerprint(paths: string[]): string {
  const parts: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) {
      parts.push(`${p}:-`);
      continue;
    }
    const st = statSync(p);
    if (st.isFile()) parts.push(`${p}:${st.size}:${st.mtimeMs}`);
    else {
      const files = filesUnder(p);
      let bytes = 0;
      for (const f of files) {
        try {
          bytes += statSync(f).size;
        } catch {
          /* vanished */
        }
      }
      parts.push(`${p}:${files.length}:${bytes}`);
    }
  }
  return parts.join('|');
}

// ---------------------------------------------------------------- scenarios

/**
 * A scenario: a template built once (repos, remote, data), copied per trial; the command
 * to kill; and what must hold after the kill and after the rerun.
 */
interface Scenario {
  command: CrashCommand;
  /** Folder holding the template (copied whole for each trial). */
  template: string;
  /** Working folder of the command, relative to the trial folder. */
  cwd: string;
  args: string[];
  /** Paths (relative to the trial folder) whose change shows work had begun. */
  watch: string[];
  /** Set-up each copy needs before the command runs (it is not part of what is killed). */
  prepare?(trial: string): void;
  /** Invariants right after the kill. */
  afterKill(trial: string): Promise<string[]>;
  /** Invariants after the rerun exited 0. */
  afterRerun(trial: string): Promise<string[]>;
}

interface DataSpec {
  files: number;
  fileMiB: number;
}

function newRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  must(dir, ['init', '--yes']);
  return dir;
}

function buildCommit(base: string, d: DataSpec): Scenario {
  const template = join(base, 'commit');
  const repo = newRepo(join(template, 'repo'));
  const v1 = writeModelFiles(repo, 'model', d.files, d.fileMiB);
  must(repo, ['commit', 'm', 'model', '-m', 'one']);
  const v2 = writeModelFiles(repo, 'model', d.files, d.fileMiB);
  return {
    command: 'commit',
    template,
    cwd: 'repo',
    args: ['commit', 'm', 'model', '-m', 'two'],
    watch: ['repo/.modelctl/objects', 'repo/.modelctl/tmp', 'repo/.modelctl/manifests', 'repo/.modelctl/index.db-wal'],
    async afterKill(t) {
      const r = join(t, 'repo');
      const problems = [...(await checkRepository(r)), ...checkoutMatches(r, 'm@v1', v1, 'committed before the kill')];
      // If the kill came after the index transaction, v2 exists and must be whole.
      if (indexScalar(r, "SELECT COUNT(*) FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = 'm' AND v.number = 2") === 1) {
        problems.push(...checkoutMatches(r, 'm@v2', v2, 'committed by the killed command'));
      }
      return problems;
    },
    async afterRerun(t) {
      const r = join(t, 'repo');
      return [...(await checkRepository(r)), ...checkoutMatches(r, 'm@v2', v2, 'after rerun')];
    },
  };
}

function buildPush(base: string, d: DataSpec): Scenario {
  const template = join(base, 'push');
  const repo = newRepo(join(template, 'repo'));
  const remote = join(template, 'remote');
  must(repo, ['remote', 'add', 'origin', relative(repo, remote), '--default']);
  const v1 = writeModelFiles(repo, 'model', d.files, d.fileMiB);
  must(repo, ['commit', 'm', 'model', '-m', 'one', '--tag', 'first']);
  must(repo, ['push']);
  const v2 = writeModelFiles(repo, 'model', d.files, d.fileMiB);
  must(repo, ['commit', 'm', 'model', '-m', 'two', '--tag', 'second']);
  must(repo, ['promote', 'm@v2', '--to', 'staging', '--yes']);
  return {
    command: 'push',
    template,
    cwd: 'repo',
    args: ['push'],
    watch: ['remote', 'repo/.modelctl/index.db-wal'],
    async afterKill(t) {
      const r = join(t, 'repo');
      const rem = join(t, 'remote');
      return [
        ...(await checkRepository(r)),
        ...checkDirectoryRemote(rem),
        // v1 was pushed (exit 0) before the killed push: it must still be whole on the remote.
        ...remotePullMatches(rem, 'm@v1', v1, 'pushed before the kill'),
      ];
    },
    async afterRerun(t) {
      const rem = join(t, 'remote');
      return [...(await checkRepository(join(t, 'repo'))), ...checkDirectoryRemote(rem), ...remotePullMatches(rem, 'm@staging', v2, 'after rerun')];
    },
  };
}

function buildPull(base: string, d: DataSpec): Scenario {
  const template = join(base, 'pull');
  const origin = newRepo(join(template, 'origin'));
  const remote = join(template, 'remote');
  must(origin, ['remote', 'add', 'origin', relative(origin, remote), '--default']);
  const v1 = writeModelFiles(origin, 'model', d.files, d.fileMiB);
  must(origin, ['commit', 'm', 'model', '-m', 'one']);
  const v2 = writeModelFiles(origin, 'model', d.files, d.fileMiB);
  must(origin, ['commit', 'm', 'model', '-m', 'two']);
  must(origin, ['push']);
  const repo = newRepo(join(template, 'repo'));
  must(repo, ['remote', 'add', 'origin', relative(repo, remote), '--default']);
  must(repo, ['pull', 'm@v1']);
  rmSync(join(origin), { recursive: true, force: true }); // only the remote serves now
  return {
    command: 'pull',
    template,
    cwd: 'repo',
    args: ['pull', 'm@v2', '--force'],
    watch: ['repo/.modelctl/objects', 'repo/.modelctl/tmp', 'repo/model', 'repo/.modelctl/index.db-wal'],
    async afterKill(t) {
      const r = join(t, 'repo');
      // v1 was pulled (exit 0) before: whole. v2 may be partly downloaded: allowed, not visible as objects.
      return [...(await checkRepository(r, { metadataOnlyAllowed: [2] })), ...checkoutMatches(r, 'm@v1', v1, 'pulled before the kill')];
    },
    async afterRerun(t) {
      const r = join(t, 'repo');
      const partial = readdirSync(join(r, '.modelctl', 'tmp')).filter((n) => n.startsWith('partial-'));
      return [
        ...(await checkRepository(r)),
        ...hashesOf(r, v2).map((p) => `after rerun: workspace ${p}`),
        ...(partial.length ? [`after rerun: partial files left: ${partial.join(', ')}`] : []),
      ];
    },
  };
}

function buildGc(base: string, d: DataSpec): Scenario {
  const template = join(base, 'gc');
  const repo = newRepo(join(template, 'repo'));
  const remote = join(template, 'remote');
  must(repo, ['remote', 'add', 'origin', relative(repo, remote), '--default']);
  const data: Record<string, string>[] = [];
  for (let i = 1; i <= 3; i++) {
    const files = writeModelFiles(repo, 'model', d.files, d.fileMiB);
    // Many small files too, so gc has hundreds of objects to delete and a kill can land mid-way.
    for (let j = 0; j < 150; j++) {
      const bytes = randomBytes(1024 + j * 37);
      writeFileSync(join(repo, 'model', `shard-${j}.bin`), bytes);
      files[`model/shard-${j}.bin`] = sha256(bytes);
    }
    data.push(files);
    must(repo, ['commit', 'm', 'model', '-m', `v${i}`]);
  }
  must(repo, ['tag', 'm@v3', 'keep']);
  must(repo, ['push']);
  // Unreferenced garbage too: an object no version names (as a crashed commit leaves).
  const scratch = newRepo(join(template, 'scratch'));
  writeModelFiles(scratch, 'g', 1, d.fileMiB);
  must(scratch, ['commit', 'g', 'g', '-m', 'garbage']);
  for (const p of filesUnder(join(scratch, '.modelctl', 'objects'))) {
    const dest = join(repo, '.modelctl', 'objects', relative(join(scratch, '.modelctl', 'objects'), p));
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(p, dest);
  }
  rmSync(scratch, { recursive: true, force: true });
  return {
    command: 'gc',
    template,
    cwd: 'repo',
    args: ['gc', '--keep-last', '1'],
    watch: ['repo/.modelctl/objects', 'repo/.modelctl/index.db-wal'],
    async afterKill(t) {
      const r = join(t, 'repo');
      return [...(await checkRepository(r)), ...checkoutMatches(r, 'm@keep', data[2], 'tagged, kept by gc')];
    },
    async afterRerun(t) {
      const r = join(t, 'repo');
      const problems = await checkRepository(r);
      // Thinned versions come back from the remote byte-identical.
      const p = cli(r, ['pull', 'm@v1', '--out', 'back']);
      if (p.code !== 0) problems.push(`after rerun: pull m@v1 exited ${p.code}: ${p.stderr.trim().slice(0, 300)}`);
      else problems.push(...hashesOf(join(r, 'back'), data[0]).map((x) => `after rerun: pulled back v1 ${x}`));
      return problems;
    },
  };
}

function buildPromotePush(base: string, d: DataSpec): Scenario {
  const template = join(base, 'promote-push');
  const repo = newRepo(join(template, 'repo'));
  const remote = join(template, 'remote');
  must(repo, ['remote', 'add', 'origin', relative(repo, remote), '--default']);
  const v1 = writeModelFiles(repo, 'model', d.files, d.fileMiB);
  must(repo, ['commit', 'm', 'model', '-m', 'one']);
  must(repo, ['promote', 'm@v1', '--to', 'staging', '--yes']);
  must(repo, ['push']);
  const v2 = writeModelFiles(repo, 'model', d.files, d.fileMiB);
  must(repo, ['commit', 'm', 'model', '-m', 'two']); // not pushed: promote --push uploads it
  const stageOnRemote = (t: string): string | null => {
    const p = join(t, 'remote', 'models', 'm', 'stages', 'staging.json');
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')).version as string) : null;
  };
  const idOf = (t: string, n: number) =>
    indexScalar(join(t, 'repo'), "SELECT v.id FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = 'm' AND v.number = ?", n) as string;
  return {
    command: 'promote-push',
    template,
    cwd: 'repo',
    args: ['promote', 'm@v2', '--to', 'staging', '--push', '--yes'],
    watch: ['remote', 'repo/.modelctl/index.db-wal'],
    // Each copy's remote is another remote (another path): --push compare-and-swaps against
    // what the repository last fetched from it, so it fetches it first.
    prepare: (t) => must(join(t, 'repo'), ['fetch']),
    async afterKill(t) {
      const r = join(t, 'repo');
      const rem = join(t, 'remote');
      const problems = [...(await checkRepository(r)), ...checkDirectoryRemote(rem)];
      const onRemote = stageOnRemote(t);
      if (onRemote !== idOf(t, 1) && onRemote !== idOf(t, 2)) problems.push(`remote staging names ${String(onRemote).slice(0, 12)}, neither v1 nor v2`);
      // Whatever the remote stage names, a reader can pull it whole.
      problems.push(...remotePullMatches(rem, 'm@staging', onRemote === idOf(t, 2) ? v2 : v1, 'remote stage after the kill'));
      return problems;
    },
    async afterRerun(t) {
      const r = join(t, 'repo');
      const rem = join(t, 'remote');
      const problems = [...(await checkRepository(r)), ...checkDirectoryRemote(rem)];
      if (stageOnRemote(t) !== idOf(t, 2)) problems.push('after rerun: remote staging is not v2');
      const local = indexScalar(r, "SELECT s.version_id FROM stages s JOIN models m ON m.id = s.model_id WHERE m.name = 'm' AND s.stage = 'staging'");
      if (local !== idOf(t, 2)) problems.push('after rerun: local staging is not v2');
      problems.push(...remotePullMatches(rem, 'm@staging', v2, 'after rerun'));
      return problems;
    },
  };
}

const BUILDERS: Record<CrashCommand, (base: string, d: DataSpec) => Scenario> = {
  commit: buildCommit,
  push: buildPush,
  pull: buildPull,
  gc: buildGc,
  'promote-push': buildPromotePush,
};

// ---------------------------------------------------------------- the trial loop

/**
 * Starts the command and SIGKILLs it: `at` ms after the start ('time'), or `at` ms after its
 * work first shows on disk ('work': start-up time varies more than a short command's work
 * lasts, so aiming from the start would mostly miss).
 */
function spawnAndKill(cwd: string, args: string[], plan: { mode: 'time' | 'work'; at: number }, watch: string[]): Promise<{ killed: boolean; midWork: boolean; code: number | null; ms: number }> {
  const before = fingerprint(watch);
  const start = performance.now();
  return new Promise((resolveTrial) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: cliEnv({ ...CLI_ENV }),
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    let exited = false;
    let killed = false;
    let midWork = false;
    let timer: NodeJS.Timeout | undefined;
    let poll: NodeJS.Timeout | undefined;
    const kill = () => {
      if (exited) return;
      midWork = midWork || fingerprint(watch) !== before;
      killed = child.kill('SIGKILL');
    };
    if (plan.mode === 'time') timer = setTimeout(kill, plan.at);
    else {
      poll = setInterval(() => {
        if (exited || fingerprint(watch) === before) return;
        clearInterval(poll);
        midWork = true;
        timer = setTimeout(kill, plan.at);
      }, 2);
    }
    child.on('exit', (code) => {
      exited = true;
      clearTimeout(timer);
      clearInterval(poll);
      resolveTrial({ killed, midWork: killed && midWork, code, ms: performance.now() - start });
    });
  });
}

/**
 * Times one uninterrupted run of the scenario's command: when its work first shows on disk
 * and when it ends. Kill delays are spread over that span (a few land in start-up too).
 */
async function calibrate(s: Scenario, work: string): Promise<{ startMs: number; endMs: number }> {
  await calibrateOnce(s, work); // warms the page cache and the module cache
  return calibrateOnce(s, work);
}

async function calibrateOnce(s: Scenario, work: string): Promise<{ startMs: number; endMs: number }> {
  const t = join(work, `calibrate-${s.command}`);
  cpSync(s.template, t, { recursive: true });
  s.prepare?.(t);
  const watch = s.watch.map((w) => join(t, w));
  const before = fingerprint(watch);
  const start = performance.now();
  let startMs = -1;
  const child = spawn(process.execPath, [BIN, ...s.args], { cwd: join(t, s.cwd), env: cliEnv({ ...CLI_ENV }), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const poll = setInterval(() => {
    if (startMs < 0 && fingerprint(watch) !== before) startMs = performance.now() - start;
  }, 10);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearInterval(poll);
  const endMs = performance.now() - start;
  rmSync(t, { recursive: true, force: true });
  if (code !== 0) throw new Error(`calibration: ${s.args.join(' ')} exited ${code}: ${stderr.trim()}`);
  return { startMs: startMs < 0 ? endMs * 0.5 : startMs, endMs };
}

/** Runs the crash trials and returns the tally (failures are collected, never thrown). */
export async function runCrashTrials(opts: CrashOptions): Promise<CrashTally> {
  const started = performance.now();
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = rng(seed);
  const log = opts.log ?? (() => undefined);
  const data: DataSpec = { files: opts.files ?? 3, fileMiB: opts.fileMiB ?? 4 };
  const commands = opts.commands ?? CRASH_COMMANDS;
  const work = mkdtempSync(join(tmpdir(), 'modelctl-crash-'));
  const tally: CrashTally = { seed, perCommand: {}, trials: 0, killed: 0, midWork: 0, failures: [], seconds: 0 };
  try {
    for (const command of commands) {
      const s = BUILDERS[command](join(work, 'templates'), data);
      const { startMs, endMs: calibratedEndMs } = await calibrate(s, work);
      const endMs = calibratedEndMs;
      log(`${command}: template ready; an uninterrupted run shows work at ${Math.round(startMs)} ms and ends at ${Math.round(endMs)} ms`);
      const per = (tally.perCommand[command] = { trials: 0, killed: 0, midWork: 0, completedBeforeKill: 0, failures: 0 });
      for (let i = 0; i < opts.trialsPerCommand; i++) {
        const t = join(work, `${command}-${i}`);
        cpSync(s.template, t, { recursive: true });
        s.prepare?.(t);
        // One kill in eight is timed from the start (it may land in start-up); the rest come
        // at a random point of the work once it shows, a little past its calibrated length.
        const fromStart = random() < 0.125;
        const delayMs = fromStart ? Math.round(random() * endMs * 1.05) : Math.round(random() * (endMs - startMs) * 1.1);
        const outcome: TrialOutcome = { command, trial: i, delayMs, killed: false, midWork: false, failures: [] };
        try {
          const k = await spawnAndKill(join(t, s.cwd), s.args, { mode: fromStart ? 'time' : 'work', at: delayMs }, s.watch.map((w) => join(t, w)));
          outcome.killed = k.killed;
          outcome.midWork = k.midWork;
          if (!k.killed && k.code !== 0) outcome.failures.push(`the command exited ${k.code} before the kill`);
          outcome.failures.push(...(await s.afterKill(t)).map((p) => `after kill: ${p}`));
          const again = cli(join(t, s.cwd), s.args);
          if (again.code !== 0) outcome.failures.push(`rerun exited ${again.code}: ${again.stderr.trim().slice(0, 400)}`);
          else outcome.failures.push(...(await s.afterRerun(t)));
        } catch (err) {
          outcome.failures.push(`harness: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
        }
        per.trials++;
        tally.trials++;
        if (outcome.killed) {
          per.killed++;
          tally.killed++;
        } else per.completedBeforeKill++;
        if (outcome.midWork) {
          per.midWork++;
          tally.midWork++;
        }
        if (outcome.failures.length) {
          per.failures++;
          tally.failures.push({ command, trial: i, delayMs, failures: outcome.failures });
          // Keep the evidence of a failed trial for debugging.
          log(`  ${command} #${i} (kill at ${delayMs} ms) FAILED, kept in ${t}:\n    ${outcome.failures.join('\n    ')}`);
        } else {
          rmSync(t, { recursive: true, force: true });
          log(`  ${command} #${i}: kill ${fromStart ? 'at' : 'after work showed +'} ${delayMs} ms, ${outcome.killed ? (outcome.midWork ? 'killed mid-work' : 'killed before work showed') : 'finished before the kill'}; all invariants hold`);
        }
      }
    }
  } finally {
    tally.seconds = Math.round((performance.now() - started) / 1000);
    if (tally.failures.length === 0) rmSync(work, { recursive: true, force: true });
  }
  return tally;
}

/** The tally as a small table for humans. */
export function formatTally(t: CrashTally): string {
  const rows = Object.entries(t.perCommand).map(
    ([c, p]) => `  ${c.padEnd(13)} ${String(p.trials).padStart(6)} ${String(p.killed).padStart(7)} ${String(p.midWork).padStart(9)} ${String(p.completedBeforeKill).padStart(9)} ${String(p.failures).padStart(9)}`,
  );
  return [
    `crash torture (seed ${t.seed}, ${t.seconds} s)`,
    `  ${'command'.padEnd(13)} ${'trials'.padStart(6)} ${'killed'.padStart(7)} ${'mid-work'.padStart(9)} ${'finished'.padStart(9)} ${'failures'.padStart(9)}`,
    ...rows,
    `  ${'total'.padEnd(13)} ${String(t.trials).padStart(6)} ${String(t.killed).padStart(7)} ${String(t.midWork).padStart(9)} ${String(t.trials - t.killed).padStart(9)} ${String(t.failures.length).padStart(9)}`,
  ].join('\n');
}
