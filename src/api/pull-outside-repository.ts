import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { redactUrl } from '../core/redact.js';
import { ConflictError, ExitCode, ModelctlError, NotFoundError } from '../errors.js';
import { isAccessFailure } from '../remote/access-failure.js';
import { assertRemoteUrl, looksLikeUrl } from '../sync/remote-session.js';
import { notARepo, sharedSettingsAbove } from '../workspace/repo-paths.js';
import { withScratchRepository, type Repository, type ScratchPolicy } from '../workspace/repository.js';

/** Name of the throwaway store a repository-less pull keeps inside --out until it is done (resume point). */
export const PULL_STORE_DIR = '.modelctl-pull';

/** What a repository-less pull is given. */
export interface OutsidePull {
  ref: string;
  remote?: string;
  /** With an s3:// URL: the endpoint it was given, repeated in hints. */
  endpoint?: string;
  out?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a pull with no repository (CI): the remote must be a URL; a throwaway store inside
 * --out serves as the repository and is removed at the end — kept only after network
 * trouble mid-download, so running the same pull again resumes; a wrong reference, missing
 * credentials or a hostile remote leave nothing behind, not even the --out folder it
 * created. Errors get hints that work where the user is (the store's own name commands that
 * need a repository).
 */
export async function pullOutsideRepository<T>(opts: OutsidePull, cwd: string, run: (repo: Repository, remote: string, out: string) => Promise<T>): Promise<T> {
  const wanted = opts.remote ?? (opts.env ?? process.env).MODELCTL_REMOTE;
  if (!wanted || !looksLikeUrl(wanted)) {
    // A fresh git clone (modelctl.json, no .modelctl/): its remotes are named there, so the
    // fix is `modelctl init`, not a URL.
    if (sharedSettingsAbove(cwd)) throw notARepo(cwd);
    throw new NotFoundError('NOT_A_REPOSITORY', 'not a modelctl repository, and no remote URL to pull from', {
      hint: 'outside a repository pass the remote as a URL: modelctl pull fraud@production --remote s3://bucket/registry --out ./model',
    });
  }
  assertRemoteUrl(wanted, cwd);
  const out = resolve(cwd, opts.out ?? '.');
  try {
    return await withScratchRepository(join(out, PULL_STORE_DIR), { env: opts.env, cwd }, scratchPolicy(out), (repo) => run(repo, wanted, out));
  } catch (err) {
    throw withoutRepositoryHint(err, opts.ref, wanted, opts.out, opts.endpoint);
  }
}

/**
 * The throwaway store is a resume point only after network trouble that interrupted a
 * download (README: only a killed pull or a network failure keeps partial files): missing or
 * refused credentials fail the same way next time, and a pull that downloaded no file bytes
 * has nothing to resume. One pull fills it at a time (README, pull).
 */
function scratchPolicy(out: string): ScratchPolicy {
  return {
    keepAfter: (err, store) => err instanceof ModelctlError && err.exitCode === ExitCode.REMOTE && !isAccessFailure(err) && store.holdsFileBytes(),
    busy: (heldBy) => {
      const who = heldBy ? `another pull (pid ${heldBy.pid}${heldBy.host !== hostname() ? ` on ${heldBy.host}` : ''}, since ${heldBy.since})` : 'another pull';
      return new ConflictError('PULL_RUNNING', `${who} is filling ${out}`, {
        hint: 'wait for it to end and run this pull again (it then downloads nothing already there), or pull into another --out',
        data: { out, pid: heldBy?.pid ?? null, host: heldBy?.host ?? null },
      });
    },
  };
}

/**
 * Errors of a repository-less pull come from its throwaway store, whose hints name
 * commands that need a repository (`modelctl ls`, "commit your changes"). Here they get
 * hints that work where the user is.
 */
function withoutRepositoryHint(err: unknown, ref: string, remote: string, out: string | undefined, endpoint: string | undefined): unknown {
  if (!(err instanceof ModelctlError)) return err;
  const model = ref.split('@')[0];
  const target = `--remote ${redactUrl(remote)}${endpoint ? ` --endpoint ${redactUrl(endpoint)}` : ''}`;
  let hint: string | undefined;
  if (err.code === 'UNKNOWN_MODEL') {
    hint = `check the reference against what the remote holds: \`modelctl ls ${target}\` lists its models (no repository needed)`;
  } else if (['UNKNOWN_REF', 'NO_VERSIONS', 'AMBIGUOUS_REF'].includes(err.code)) {
    hint = `check the reference against what the remote holds: \`modelctl log ${model} ${target}\` lists its versions (no repository needed)`;
  } else if (err.code === 'WOULD_OVERWRITE') {
    hint = `move those files out of ${out ?? 'this folder'} first, or pass --force to overwrite or remove them`;
  } else if (err.code === 'VERSION_REMOVED_ON_REMOTE') {
    // Its message counts the files "this repository" holds: with none, only the removal is news.
    const d = err.data as { model: string; number: number; actor: string; at: string; reason: string } | undefined;
    const message = d ? `${d.model}@v${d.number} was removed from ${redactUrl(remote)} by ${d.actor} at ${d.at} (reason: ${d.reason})` : err.message;
    hint = `pick another version: \`modelctl log ${model} ${target}\` lists them (no repository needed)`;
    return new ModelctlError(err.code, message, { exitCode: err.exitCode, hint, data: err.data, cause: err });
  }
  if (hint === undefined) return err;
  return new ModelctlError(err.code, err.message, { exitCode: err.exitCode, hint, data: err.data, cause: err });
}
