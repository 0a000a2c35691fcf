import { relative, resolve } from 'node:path';
import { CommandFailedError, InterruptedError, NotFoundError, PolicyError, UsageError } from '../errors.js';
import type { RunLineage } from '../core/manifest.js';
import { assertModelName, printable } from '../core/names.js';
import { toPosixPath } from '../core/paths.js';
import { redactCommandLine } from '../core/redact.js';
import { captureRunEnvironment } from '../core/run-environment.js';
import { repoRelative } from '../workspace/file-selection.js';
import { isInGitWorkTree, readGitState } from '../workspace/git-state.js';
import { runCommand, type RunOutcome } from '../workspace/run-command.js';
import { commitVersion, type CommitResult } from './commit-engine.js';
import { dataInputPaths } from './data-inputs.js';
import { existingOutputs, recordedPaths } from './recorded-paths.js';
import { assertLockReadable, updateLock, type LockUpdate } from './lock-update.js';
import type { Repository } from './repository.js';

/** What `modelctl run` is asked to do. */
export interface RunRequest {
  /** The model whose declared outputs (`paths` in modelctl.json) are committed; default: the only model declared. */
  model?: string;
  /** The command and its arguments (run without a shell). */
  command: string[];
  message?: string;
  /** Store the combined output as a file of the version: true → `logs/<model>.log`, or a path relative to the current folder. */
  log?: boolean | string;
  /** Update modelctl.lock (default: the `lock` setting). */
  lock?: boolean;
  /** modelctl's own command line (lineage argv, audit event). */
  argv?: string[];
  /** Where the command's stdout goes (see runCommand); default `inherit`. */
  stdout?: 'inherit' | 'stderr' | 'ignore';
}

export interface RunResult extends CommitResult {
  /** How the command ran, as recorded in the version's lineage. */
  run: RunLineage;
  lock: LockUpdate | null;
}

/**
 * Runs a training command and, when it exits 0, commits the model's declared outputs with the
 * run in the lineage (docs/design.md §14): the command line (credentials redacted), exit code,
 * duration, peak memory of its process tree, the allow-listed environment, and the git state
 * read *before* it started (refused when dirty and `run.clean_git` is set: PolicyError 5).
 * A failing command commits nothing: CommandFailedError carrying its exit code. A SIGINT or
 * SIGTERM is passed to the command; once it stopped, InterruptedError (130), nothing committed.
 */
export async function runAndCommit(repo: Repository, opts: RunRequest): Promise<RunResult> {
  if (opts.command.length === 0 || opts.command[0] === '') {
    throw new UsageError('NO_COMMAND', 'no command to run', { hint: 'put the command after `--`: modelctl run -- python train.py' });
  }
  const model = runModel(repo, opts.model);
  assertLockReadable(repo, opts.lock);
  const logRel = logPath(repo, model, opts.log);
  // The last run's outputs, log and metrics and the declared data do not make the tree dirty:
  // the commit after the command records them itself (README, Lineage recorded by `commit`).
  const declared = repo.settings.models[model];
  const outputs = await existingOutputs(repo, declared.paths ?? []);
  const code = await readGitState(
    repo.root,
    recordedPaths(repo, {
      files: logRel === null ? outputs : [...outputs, resolve(repo.root, logRel)],
      metrics: declared.metrics ? resolve(repo.root, declared.metrics) : null,
      data: dataInputPaths({ cwd: repo.root }, declared.data ?? []),
    }),
  );
  if (repo.settings.run.cleanGit && !code && (await isInGitWorkTree(repo.root))) {
    throw new PolicyError('NO_GIT_COMMIT', 'run.clean_git in modelctl.json requires the code to be in a git commit, and this repository has none yet', {
      hint: 'commit the training code (`git add -A && git commit`), then run again',
      data: { rule: 'clean_git' },
    });
  }
  if (repo.settings.run.cleanGit && (!code || code.dirty)) {
    throw new PolicyError(code ? 'DIRTY_TREE' : 'NOT_IN_GIT', code ? 'the git tree has uncommitted changes, and run.clean_git in modelctl.json requires a clean one' : 'run.clean_git in modelctl.json requires a git work tree, and this is not one', {
      hint: code ? 'commit or stash the changes (`git status` lists them), then run again' : 'run from a git clone, or set run.clean_git to false',
      data: { rule: 'clean_git' },
    });
  }
  const env = captureRunEnvironment(repo.env, repo.settings.run.env);
  const command = redactCommandLine(opts.command);
  const outcome = await runCommand({
    command: opts.command,
    cwd: repo.cwd,
    env: repo.env,
    stdout: opts.stdout ?? 'inherit',
    logFile: logRel === null ? null : resolve(repo.root, logRel),
  });
  assertSucceeded(outcome, command, logRel);
  const run: RunLineage = {
    command,
    cwd: toPosixPath(relative(repo.root, repo.cwd)) || '.',
    exitCode: outcome.exitCode,
    startedAt: outcome.startedAt,
    durationMs: outcome.durationMs,
    peakMemory: outcome.peakMemory,
    env,
    log: logRel,
  };
  let committed: CommitResult;
  try {
    committed = await commitVersion(repo, { model, message: opts.message, argv: opts.argv, code, run, extraFiles: logRel === null ? [] : [logRel] });
  } catch (err) {
    // The usual cause: the command wrote its outputs somewhere else than modelctl.json says.
    if (err instanceof NotFoundError && (err.code === 'FILE_NOT_FOUND' || err.code === 'NO_MATCH')) {
      throw new NotFoundError('OUTPUT_NOT_FOUND', `the command exited 0, but what modelctl.json declares for '${model}' is not there: ${err.message}; nothing was committed`, {
        hint: `models.${model} paths, params and metrics are relative to the repository root (${repo.root}); the command ran in ${run.cwd === '.' ? 'the root' : run.cwd}`,
        cause: err,
      });
    }
    throw err;
  }
  return { ...committed, run, lock: updateLock(repo, opts.lock, [committed.version.id]) };
}

/** The model a run commits: the one named, else the only one modelctl.json declares. */
function runModel(repo: Repository, named: string | undefined): string {
  const declared = Object.keys(repo.settings.models).sort();
  const model = named ?? (declared.length === 1 ? declared[0] : undefined);
  if (!model) {
    throw new UsageError(declared.length ? 'MODEL_REQUIRED' : 'NO_MODEL', declared.length ? `modelctl.json declares ${declared.length} models (${declared.join(', ')}): say which one this run trains` : 'modelctl.json declares no model whose outputs a run could commit', {
      hint: declared.length ? `modelctl run --model ${declared[0]} -- <command…>` : `declare the model and the files the run writes: \`modelctl config set --shared models.fraud.paths '["model/"]'\` (then commit modelctl.json)`,
    });
  }
  assertModelName(model);
  if (!repo.settings.models[model]?.paths?.length) {
    throw new UsageError('NO_PATHS', `modelctl.json declares no outputs for '${model}'`, {
      hint: `declare the files the run writes: \`modelctl config set --shared models.${model}.paths '["model/"]'\``,
    });
  }
  return model;
}

/** The root-relative path of the log file, or null without --log. */
function logPath(repo: Repository, model: string, log: boolean | string | undefined): string | null {
  if (log === undefined || log === false) return null;
  const abs = log === true ? resolve(repo.root, 'logs', `${model}.log`) : resolve(repo.cwd, log);
  return repoRelative(repo.root, abs);
}

function assertSucceeded(outcome: RunOutcome, command: readonly string[], logRel: string | null): void {
  const shown = printable(command.join(' '), 120);
  const data = { exitCode: outcome.exitCode, signal: outcome.signal, durationMs: outcome.durationMs, log: logRel };
  if (outcome.interrupted) {
    throw new InterruptedError(`interrupted by ${outcome.interrupted}: '${shown}' was stopped (${outcome.signal ?? `exit ${outcome.exitCode}`}) and nothing was committed`);
  }
  if (outcome.exitCode !== 0) {
    const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with ${outcome.exitCode}`;
    throw new CommandFailedError(`'${shown}' ${how}; nothing was committed`, outcome.exitCode, {
      hint: logRel ? `its output is in ${logRel}; fix the failure and run again` : 'fix the failure (its output is above) and run again',
      data,
    });
  }
}
