import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InterruptedError, NotFoundError, PolicyError, UsageError } from '../errors.js';
import type { DataInput, PeakMemory } from '../core/manifest.js';
import { unsafePathReason } from '../core/paths.js';
import { REDACTED } from '../core/redact.js';
import { diffFiles, diffMetrics, type DiffFile, type FilesDiff, type MetricsDiff } from '../core/version-diff.js';
import { hashFileSync } from '../store/hash-file.js';
import { SHARED_CONFIG_FILE, readConfigFile } from '../workspace/config.js';
import { selectFiles } from '../workspace/file-selection.js';
import { enterForegroundChild } from '../workspace/foreground-child.js';
import { addWorktree, assertCommitExists, gitTopLevel, removeWorktree } from '../workspace/git-worktree.js';
import { readKeyValueFile } from '../workspace/key-value-file.js';
import { runCommand } from '../workspace/run-command.js';
import { describeDataInputs, folderDigest, selectFilesAnywhere } from './data-inputs.js';
import { readVersionManifest } from './read-manifest.js';
import type { Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

/** What `modelctl reproduce` is asked to do. */
export interface ReproduceRequest {
  /** The version to rebuild (it must have been made by `modelctl run`). */
  ref: string;
  /** Folder for the temporary worktree (absent or empty; default: a new folder in the system temp folder). */
  in?: string;
  /** Reproduce even though the version was trained from a git tree with uncommitted changes. */
  allowDirty?: boolean;
  /** Keep the worktree (and the rebuilt files) instead of removing it. */
  keep?: boolean;
  /** Where the command's stdout goes (see runCommand); default `inherit`. */
  stdout?: 'inherit' | 'stderr' | 'ignore';
}

/** One recorded data input, checked again. */
export interface ReproducedData {
  source: string;
  kind: DataInput['kind'];
  /** `match`/`changed`: hashed again; `missing`: nowhere to be found; `unchecked`: a URI (or an unsafe recorded path). */
  status: 'match' | 'changed' | 'missing' | 'unchecked';
  recorded: string | null;
  actual: string | null;
  /** Where it was read: the worktree (tracked in git), the repository (then linked into the worktree), an absolute path. */
  from: 'worktree' | 'repository' | 'absolute' | null;
}

/** The report of a reproduction (the --json document). */
export interface ReproduceResult {
  version: VersionSummary;
  commit: string;
  /** Where the worktree was (removed unless `kept`). */
  worktree: string;
  kept: boolean;
  command: string[];
  /** The folder the command ran in, relative to the repository root. */
  cwd: string;
  run: {
    exitCode: number;
    signal: string | null;
    durationMs: number;
    peakMemory: PeakMemory | null;
    recorded: { durationMs: number; peakMemory: PeakMemory | null };
  };
  data: ReproducedData[];
  /** Every data input that could be hashed still has its recorded digest. */
  dataMatches: boolean;
  /** The version's files (`before`) against the rebuilt ones (`after`); the run log is left out. */
  files: FilesDiff;
  /** True when the rebuilt files are bit-identical to the version's (the log left out). */
  identical: boolean;
  /** identical, the command exited 0 and every checked data input matches: exit 0. */
  reproduced: boolean;
  /** Recorded metrics (`before`) against those the rebuilt run wrote (`after`), with deltas. */
  metrics: MetricsDiff;
  /** The version's log file, not compared (output differs from run to run). */
  log: string | null;
  warnings: string[];
}

/**
 * Rebuilds a version from its recorded lineage (docs/design.md §14): a temporary git worktree
 * at the recorded commit (refused, PolicyError 5, when the recorded tree was dirty unless
 * `allowDirty`), every data input hashed again, the recorded command run there with the
 * recorded environment, and its outputs compared with the version's files and metrics. The
 * worktree is removed afterwards (unless `keep`), also on failure and on SIGINT/SIGTERM, which
 * reach the command and then end with InterruptedError (130).
 */
export async function reproduceVersion(repo: Repository, opts: ReproduceRequest): Promise<ReproduceResult> {
  const row = resolveIn(repo, opts.ref);
  const manifest = readVersionManifest(repo, row.id);
  const { run, code } = manifest.lineage;
  const ref = `${row.model}@v${row.number}`;
  if (!run) {
    throw new UsageError('NOT_A_RUN', `${ref} was not made by \`modelctl run\`: it records no command to run again`, {
      hint: `train it with \`modelctl run --model ${row.model} -- <command…>\`, then reproduce that version`,
    });
  }
  if (!code) {
    throw new UsageError('NO_CODE_LINEAGE', `${ref} was trained outside git: there is no commit to check out`, { hint: 'train in a git work tree so the code is recorded' });
  }
  if (code.dirty && !opts.allowDirty) {
    throw new PolicyError('DIRTY_RECORDED_TREE', `${ref} was trained from ${code.commit.slice(0, 12)} with uncommitted changes, which a checkout of that commit does not have`, {
      hint: 'reproduce it anyway with --allow-dirty (the result will likely differ), or train from a clean tree',
      data: { commit: code.commit, diffHash: code.diffHash },
    });
  }
  const top = await gitTopLevel(repo.root);
  await assertCommitExists(top, code.commit);
  const worktree = worktreeFolder(repo, opts.in);
  const warnings: string[] = [];
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => void (interrupted ??= s);
  const checkInterrupt = () => {
    if (interrupted) throw new InterruptedError(`interrupted by ${interrupted}: the reproduction of ${ref} was stopped${opts.keep ? '' : ' and its worktree removed'}`);
  };
  // Signals are ours until the end, so the worktree is removed however it ends.
  const leave = enterForegroundChild();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const links: string[] = [];
  let added = false;
  try {
    await addWorktree(top, worktree, code.commit);
    added = true;
    checkInterrupt();
    const wtRoot = join(worktree, relative(top, repo.root));
    const data = await checkData(repo, wtRoot, manifest.lineage.data, links, warnings);
    checkInterrupt();
    const cwd = join(wtRoot, ...run.cwd.split('/').filter((s) => s !== '.'));
    mkdirSync(cwd, { recursive: true });
    if (commandWasRedacted(run.command)) {
      warnings.push('the recorded command had credentials redacted; it runs with the word REDACTED in their place');
    }
    const outcome = await runCommand({
      command: run.command,
      cwd,
      env: recordedEnvironment(repo.env, run.env, warnings),
      stdout: opts.stdout ?? 'inherit',
      logFile: run.log ? join(wtRoot, ...run.log.split('/')) : null,
    });
    if (outcome.interrupted) interrupted = outcome.interrupted;
    checkInterrupt();
    const before: DiffFile[] = manifest.files.filter((f) => f.path !== run.log);
    const after = await rebuiltFiles(wtRoot, row.model, before, run.log);
    const files = diffFiles(before, after);
    const metrics = diffMetrics(manifest.lineage.metrics, await rebuiltMetrics(wtRoot, row.model, warnings));
    const identical = files.added.length === 0 && files.removed.length === 0 && files.changed.length === 0;
    const dataMatches = data.every((d) => d.status === 'match' || d.status === 'unchecked');
    if (outcome.exitCode !== 0) warnings.push(`the command ${outcome.signal ? `was killed by ${outcome.signal}` : `exited with ${outcome.exitCode}`}`);
    return {
      version: summarizeVersion(repo.db, row),
      commit: code.commit,
      worktree,
      kept: !!opts.keep,
      command: run.command,
      cwd: run.cwd,
      run: {
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        durationMs: outcome.durationMs,
        peakMemory: outcome.peakMemory,
        recorded: { durationMs: run.durationMs, peakMemory: run.peakMemory },
      },
      data,
      dataMatches,
      files,
      identical,
      reproduced: identical && dataMatches && outcome.exitCode === 0,
      metrics,
      log: run.log,
      warnings,
    };
  } finally {
    // Signals stay ours until the worktree is gone: a second Ctrl-C cannot strand it.
    try {
      if (!opts.keep) {
        // Our links first, so nothing below could ever follow them into the repository's data.
        for (const l of links) rmSync(l, { force: true });
        if (added) await removeWorktree(top, worktree).catch(() => undefined);
        rmSync(worktree, { recursive: true, force: true });
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      leave();
    }
  }
}

/** The worktree's folder: `--in` (absent or empty) or a fresh one in the temp folder. */
function worktreeFolder(repo: Repository, wanted: string | undefined): string {
  if (!wanted) return mkdtempSync(join(tmpdir(), 'modelctl-reproduce-'));
  const abs = resolve(repo.cwd, wanted);
  if (existsSync(abs) && (!statSync(abs).isDirectory() || readdirSync(abs).length > 0)) {
    throw new UsageError('FOLDER_NOT_EMPTY', `--in ${wanted}: the folder exists and is not empty`, { hint: 'name a new or empty folder for the worktree' });
  }
  return abs;
}

/**
 * Each recorded data input hashed again. A repository-relative input tracked in git is read in
 * the worktree; otherwise it is read in the repository and linked into the worktree so the
 * command finds it where it was.
 */
async function checkData(repo: Repository, wtRoot: string, inputs: readonly DataInput[], links: string[], warnings: string[]): Promise<ReproducedData[]> {
  const out: ReproducedData[] = [];
  for (const d of inputs) {
    const base = { source: d.source, kind: d.kind, recorded: d.digest ?? null };
    if (d.kind === 'uri') {
      out.push({ ...base, status: 'unchecked', actual: null, from: null });
      continue;
    }
    if (!isAbsolute(d.source) && unsafePathReason(d.source)) {
      warnings.push(`data input '${d.source}' is not a safe repository path; not checked`);
      out.push({ ...base, status: 'unchecked', actual: null, from: null });
      continue;
    }
    let from: ReproducedData['from'];
    let actual: { kind: 'file' | 'dir'; digest: string } | null;
    if (isAbsolute(d.source)) {
      from = 'absolute';
      actual = await cachedDigest(repo, d.source);
    } else if (exists(join(wtRoot, d.source))) {
      from = 'worktree';
      actual = await freshDigest(join(wtRoot, d.source));
    } else if (exists(join(repo.root, d.source))) {
      from = 'repository';
      const link = join(wtRoot, d.source);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(repo.root, d.source), link);
      links.push(link);
      actual = await cachedDigest(repo, d.source);
    } else {
      out.push({ ...base, status: 'missing', actual: null, from: null });
      continue;
    }
    const same = actual !== null && actual.kind === d.kind && actual.digest === d.digest;
    out.push({ ...base, status: actual === null ? 'missing' : same ? 'match' : 'changed', actual: actual?.digest ?? null, from });
  }
  return out;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A data input of the repository (or an absolute path), hashed as commit does (the stat cache answers for unchanged files). */
async function cachedDigest(repo: Repository, source: string): Promise<{ kind: 'file' | 'dir'; digest: string } | null> {
  try {
    const [d] = await describeDataInputs({ ...repo, cwd: repo.root }, [source]);
    return d.digest ? { kind: d.kind === 'dir' ? 'dir' : 'file', digest: d.digest } : null;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

/** A data input inside the worktree, hashed without the stat cache (its paths are temporary). */
async function freshDigest(abs: string): Promise<{ kind: 'file' | 'dir'; digest: string }> {
  if (!statSync(abs).isDirectory()) return { kind: 'file', digest: hashFileSync(abs).digest };
  const files = await selectFilesAnywhere(abs);
  return { kind: 'dir', digest: folderDigest(files.map((f) => ({ rel: f.rel, ...hashFileSync(f.abs) }))) };
}

/** The current environment with the recorded variables put back (redacted ones keep their current value). */
function recordedEnvironment(env: NodeJS.ProcessEnv, recorded: Record<string, string>, warnings: string[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(recorded)) {
    if (value === REDACTED) {
      warnings.push(`${name} was redacted when the run was recorded; its current value is used`);
      continue;
    }
    out[name] = value;
  }
  return out;
}

/**
 * The rebuilt files: each of the version's paths that exists in the worktree, plus any other
 * file the model's `paths` (in the modelctl.json of that commit) select now, hashed without
 * the stat cache. The log is left out.
 */
async function rebuiltFiles(wtRoot: string, model: string, expected: readonly DiffFile[], log: string | null): Promise<DiffFile[]> {
  const found = new Map<string, string>();
  for (const f of expected) {
    const abs = join(wtRoot, ...f.path.split('/'));
    if (exists(abs) && statSync(abs).isFile()) found.set(f.path, abs);
  }
  for (const pattern of (await readConfigFile(join(wtRoot, SHARED_CONFIG_FILE))).models?.[model]?.paths ?? []) {
    try {
      for (const f of await selectFiles(wtRoot, wtRoot, [pattern])) if (f.rel !== log) found.set(f.rel, f.abs);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err; // the run wrote nothing there
    }
  }
  return [...found].map(([path, abs]) => {
    const h = hashFileSync(abs);
    return { path, size: h.size, digest: h.digest, mode: statSync(abs).mode & 0o111 ? 0o755 : 0o644 };
  });
}

/** The metrics the rebuilt run wrote: the model's metrics file in the modelctl.json of that commit. */
async function rebuiltMetrics(wtRoot: string, model: string, warnings: string[]): Promise<Record<string, unknown>> {
  const file = (await readConfigFile(join(wtRoot, SHARED_CONFIG_FILE))).models?.[model]?.metrics;
  if (!file) return {};
  try {
    return await readKeyValueFile(wtRoot, file, 'metric');
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    warnings.push(`the run wrote no metrics file (${file})`);
    return {};
  }
}

/** True when the recorded command had a credential redacted (redactCommandLine). */
function commandWasRedacted(command: readonly string[]): boolean {
  return command.some((a) => a === REDACTED || a.endsWith(`=${REDACTED}`));
}
