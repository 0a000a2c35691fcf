import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, ModelctlError, NotFoundError } from '../errors.js';
import { parseRef } from '../core/refs.js';
import { resolveRef } from '../store/resolve-ref.js';
import { findRepo } from '../workspace/repo-paths.js';
import type { LinkMode } from '../workspace/materialize.js';
import { checkout, type CheckoutResult } from './checkout.js';
import { downloadObjects, type DownloadStats } from './download-objects.js';
import { fetchInto } from './fetch.js';
import { readVersionManifest } from './read-manifest.js';
import { ensureTensorSummaries } from './tensor-summary-step.js';
import { init } from './init.js';
import { chooseRemote, looksLikeUrl, openRemoteSession } from './remote-session.js';
import { withRepository, type CommonOptions } from './repository.js';
import { jobsOrDefault, type ProgressListener } from './transfer-progress.js';
import type { LockUpdate } from './lock-update.js';
import type { VersionSummary } from './views.js';

export interface PullOptions extends CommonOptions {
  ref: string;
  /** A configured remote's name, or a URL (needed when there is no repository). */
  remote?: string;
  /** Folder to write the files into (default: their recorded paths in the repository, or the current folder without one). */
  out?: string;
  jobs?: number;
  link?: LinkMode;
  force?: boolean;
  /** Drop this many leading folders of every path (as tar does); only with `out`. */
  stripComponents?: number;
  onProgress?: ProgressListener;
  /** Record the version in modelctl.lock (default: the `lock` setting); never with --out. */
  lock?: boolean;
}

export interface PullResult {
  remote: string;
  version: VersionSummary;
  outDir: string;
  files: CheckoutResult['files'];
  /** Files of the version the folder held before that this one lacks, removed (docs/design.md §10). */
  removed: CheckoutResult['removed'];
  download: DownloadStats;
  /** False when pulled with no repository (a throwaway store was used and removed). */
  repository: boolean;
  /** What was written into modelctl.lock (null: not asked to, or pulled into --out). */
  lock: LockUpdate | null;
}

/** Name of the throwaway store a repository-less pull keeps inside --out until it is done (resume point). */
export const PULL_STORE_DIR = '.modelctl-pull';

/**
 * Fetches the model's metadata, resolves the reference, downloads only the chunks the store
 * lacks (verifying each, and each file), then checks the files out. With no repository and a
 * remote URL (CI), a throwaway store inside --out is used and removed at the end; killed
 * midway, it stays, so running the same pull again resumes.
 */
export async function pull(opts: PullOptions): Promise<PullResult> {
  const parsed = parseRef(opts.ref);
  const cwd = resolve(opts.cwd ?? process.cwd());
  let inRepo = true;
  try {
    findRepo(cwd, opts.env);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    inRepo = false;
  }
  if (inRepo) return pullInRepo({ ...opts, cwd }, parsed.model, true);

  const env = opts.env ?? process.env;
  const wanted = opts.remote ?? env.MODELCTL_REMOTE;
  if (!wanted || !looksLikeUrl(wanted)) {
    throw new NotFoundError('NOT_A_REPOSITORY', 'not a modelctl repository, and no remote URL to pull from', {
      hint: 'outside a repository pass the remote as a URL: modelctl pull fraud@production --remote s3://bucket/registry --out ./model',
    });
  }
  const spec = chooseRemote(null, wanted, env).spec;
  const { parseRemoteUrl } = await import('../remote/url.js');
  parseRemoteUrl(spec.url, { cwd }); // a mistyped URL (s3:/bucket) is exit 2 here, not a folder
  const url = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(spec.url) ? spec.url : resolve(cwd, spec.url);
  const outDir = resolve(cwd, opts.out ?? '.');
  const scratch = join(outDir, PULL_STORE_DIR);
  const firstCreated = firstMissingFolder(outDir);
  init({ cwd: scratch });
  try {
    const result = await pullInRepo({ ...opts, cwd: scratch, remote: url, out: outDir, link: opts.link ?? 'move' }, parsed.model, false);
    rmSync(scratch, { recursive: true, force: true });
    return result;
  } catch (err) {
    // Keep the scratch store only when running again can finish the job (network trouble);
    // a wrong reference or a hostile remote leaves nothing behind, not even the --out folder
    // this pull created.
    if (!(err instanceof ModelctlError && err.exitCode === ExitCode.REMOTE)) {
      rmSync(scratch, { recursive: true, force: true });
      if (firstCreated) removeEmptyFolders(outDir, firstCreated);
    }
    throw withoutRepositoryHint(err, opts.ref, wanted, opts.out);
  }
}

/** The outermost folder of `dir` that does not exist yet (what a mkdir -p would create first), or null. */
function firstMissingFolder(dir: string): string | null {
  let missing: string | null = null;
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing = d;
    if (dirname(d) === d) break;
  }
  return missing;
}

/** Removes `dir` and its parents up to `top` (included) while they are empty. */
function removeEmptyFolders(dir: string, top: string): void {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (readdirSync(d).length > 0) return;
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === top || dirname(d) === d) return;
  }
}

/**
 * Errors of a repository-less pull come from its throwaway store, whose hints name
 * commands that need a repository (`modelctl ls`, "commit your changes"). Here they get
 * hints that work where the user is.
 */
function withoutRepositoryHint(err: unknown, ref: string, remote: string, out: string | undefined): unknown {
  if (!(err instanceof ModelctlError)) return err;
  const model = ref.split('@')[0];
  let hint: string | undefined;
  if (['UNKNOWN_MODEL', 'UNKNOWN_REF', 'NO_VERSIONS', 'AMBIGUOUS_REF'].includes(err.code)) {
    hint = `check the reference against what ${remote} holds; from a clone of the training repository, \`modelctl fetch\` then \`modelctl log ${model}\` lists its versions`;
  } else if (err.code === 'WOULD_OVERWRITE') {
    hint = `move those files out of ${out ?? 'this folder'} first, or pass --force to overwrite or remove them`;
  }
  if (hint === undefined) return err;
  return new ModelctlError(err.code, err.message, { exitCode: err.exitCode, hint, data: err.data, cause: err });
}

async function pullInRepo(opts: PullOptions & { cwd: string }, model: string, repository: boolean): Promise<PullResult> {
  const jobs = jobsOrDefault(opts.jobs);
  const { remote, version, download, verified } = await withRepository(opts, async (repo) => {
    const session = await openRemoteSession(repo.settings, repository ? repo.root : opts.cwd, opts.remote, { create: false, db: repo.db, env: repo.env });
    try {
      await fetchInto(repo, session, model, jobs);
      const v = resolveRef(repo.db, opts.ref);
      const files = readVersionManifest(repo, v.id).files;
      const { stats, verified } = await downloadObjects(repo, session.remote, files, jobs, opts.onProgress);
      ensureTensorSummaries(repo, v.id, files);
      return { remote: session.displayUrl, version: v, download: stats, verified };
    } finally {
      await session.remote.close();
    }
  });
  const co = await checkout({ cwd: opts.cwd, env: opts.env, ref: `${version.model}@${version.id}`, out: opts.out, link: opts.link, force: opts.force, verified, lock: opts.lock, stripComponents: opts.stripComponents });
  return { remote, version: co.version, outDir: co.outDir, files: co.files, removed: co.removed, download, repository, lock: co.lock };
}
