import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ConflictError, ExitCode, ModelctlError, NotFoundError, PolicyError, UsageError } from '../errors.js';
import { closest, isIdPrefix, parseRef } from '../core/refs.js';
import { tryLockFolder, type FolderLock } from '../store/folder-lock.js';
import { resolveRef } from '../store/resolve-ref.js';
import type { VersionRow } from '../store/version-records.js';
import {
  buildVersionFolder,
  checkDeployTarget,
  pruneVersionFolders,
  removeVersionFolder,
  switchTo,
  undoSwitch,
  versionFolderName,
  type DeployLayout,
  type PlaceMode,
} from '../workspace/deploy-folder.js';
import { writeJsonAtomic } from '../workspace/atomic-file.js';
import { repositorySettings, type Settings } from '../workspace/config.js';
import { folderSettings } from '../workspace/trusted-keys.js';
import { barrier } from '../store/test-barrier.js';
import { stagesOfVersion } from '../store/version-records.js';
import { pullSignatureKeys, verifyBeforePlacing, writeDeployedSignature } from '../sync/signature-gate.js';
import type { SignatureCheck } from '../signing/version-signatures.js';
import type { ManifestFile } from '../core/manifest.js';
import { corruptObjectDigest, type LinkMode } from '../workspace/materialize.js';
import { runShellCommand } from '../workspace/hook-command.js';
import { modelOverviewOf } from './model-overview.js';
import { openRemoteCache, resolveRemoteSpec, type RemoteCache } from './remote-cache.js';
import type { CommonOptions } from './repository.js';
import { versionFilesOf } from './version-files.js';
import { sendWebhook, type WebhookTarget } from './watch-webhook.js';

/**
 * `modelctl watch` (docs/design.md §12): a long-running deployer. Every interval it fetches the
 * model from the remote into its cache; when the reference (usually `<model>@<stage>`) names
 * another version than the one deployed, it downloads that version (every chunk and file
 * verified), places it complete in its own folder and switches `--out` to it atomically, then
 * runs `--exec` with MODELCTL_* variables. A failed `--exec` switches back and the version is
 * not tried again until the reference moves. Remote failures never stop it: it retries with
 * backoff. The deployed state survives restarts (a state file), so a restart re-runs nothing.
 */

export interface WatchOptions extends CommonOptions {
  /** What to follow: `<model>@<stage>` (or any reference: a tag, `latest`). */
  ref: string;
  /** A configured remote's name or a URL (default: the repository's default remote). */
  remote?: string;
  /** Shell command run after each switch (or alone, without --out). */
  exec?: string;
  /** Where the deployed version appears (a symbolic link, or a folder with place 'rename'). */
  out?: string;
  place?: PlaceMode;
  link?: LinkMode;
  /** How often to look (ms). */
  intervalMs: number;
  /** Longest pause between tries while the remote fails (ms; default 5 min, at least intervalMs). */
  maxBackoffMs?: number;
  /** Cache and state folder (default: beside --out, else under ~/.cache/modelctl/watch/). */
  stateDir?: string;
  webhook?: WebhookTarget;
  /** Stop after the first look (for cron jobs and tests). */
  once?: boolean;
  /** Aborting it stops the watch: at once when idle; mid-step, the step is finished or abandoned cleanly. */
  signal: AbortSignal;
  /** Receives everything the watcher has to say, as it happens. */
  onReport?: (report: WatchReport) => void;
}

/** Something the watcher reports (the CLI prints each as a log line, or one JSON line with --json). */
export interface WatchReport {
  at: string;
  level: 'info' | 'warn' | 'error';
  event: 'started' | 'waiting' | 'stage-moved' | 'deployed' | 'deploy-failed' | 'exec-output' | 'retrying' | 'webhook-failed' | 'cache-repaired' | 'stopped';
  message: string;
  model: string;
  version?: DeployedVersion | null;
  previous?: DeployedVersion | null;
  data?: Record<string, unknown>;
}

/** A version as the watcher deployed it. */
export interface DeployedVersion {
  id: string;
  number: number;
  ref: string;
  /** The version folder (null without --out). */
  folder: string | null;
  at: string;
}

/** What the watcher remembers between runs (`<state>/watch-state.json`). */
interface WatchState {
  format: 1;
  ref: string;
  deployed: DeployedVersion | null;
  previous: DeployedVersion | null;
  /**
   * A version whose deploy failed: not retried until the reference names another one, except
   * for missing or invalid signatures (code SIGNATURE_*), checked again at each look because a
   * signature may be pushed later.
   */
  failed: { id: string; at: string; reason: string; code?: string } | null;
  /**
   * Whether --out shows a folder watch placed (set before a switch, so a crash mid-deploy still
   * knows): with --place rename, any other non-empty folder there is the user's and is refused.
   * Kept when the reference changes: the folder stays until the next switch.
   */
  placed: boolean;
}

/** How a watch ended. */
export interface WatchResult {
  ref: string;
  deployed: DeployedVersion | null;
  deployments: number;
  failures: number;
  /** True when a stop arrived mid-step and the step was abandoned (nothing half-placed is left). */
  interrupted: boolean;
}

/** Thrown inside a step when the stop signal arrives while waiting on the network. */
class Abandoned extends Error {}

/** Thrown inside a look (with --once) when the reference cannot name a version: the run's error. */
class Unresolvable extends Error {
  constructor(readonly error: NotFoundError) {
    super(error.message);
  }
}

/**
 * Runs the watch until `signal` aborts (or after one look with `once`). Usage errors (a bad
 * reference, no --out or --exec, --out in the way, another watch on the same state folder) are
 * thrown before the first look; after that nothing but a bug ends it early, except with `once`
 * a model the remote lacks or a name that is no configured stage (README, watch). A run that
 * ends in an error before anything was deployed removes the state folder if it made it.
 */
export async function watch(opts: WatchOptions): Promise<WatchResult> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const stateDir = await stateDirOf(opts, cwd, env);
  const made = !existsSync(stateDir);
  // A --out of the wrong kind needs no state folder to be told: leave none behind.
  if (made && opts.out) checkDeployTarget(layoutOf(opts, cwd, stateDir)!, false);
  mkdirSync(stateDir, { recursive: true });
  const lock = lockStateFolder(stateDir);
  try {
    return await watchLocked(opts, cwd, env, stateDir);
  } catch (err) {
    if (made && !existsSync(join(stateDir, 'watch-state.json'))) {
      // What this run made and never used; the lock file goes last, once released, so no
      // watch starting meanwhile finds the folder unlocked with a cache half removed.
      for (const name of readdirSync(stateDir)) if (!name.startsWith('watch.lock')) rmSync(join(stateDir, name), { recursive: true, force: true });
      lock.release();
      rmSync(stateDir, { recursive: true, force: true });
    }
    throw err;
  } finally {
    lock.release();
  }
}

/** The state folder: --state, else beside --out, else one per remote and reference under the user's cache. */
async function stateDirOf(opts: WatchOptions, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  parseRef(opts.ref); // a bad reference is a usage error before the remote is even named
  if (!opts.exec && !opts.out) throw new UsageError('NOTHING_TO_DO', 'watch needs --out <dir>, --exec <command>, or both', { hint: 'e.g. modelctl watch fraud@production --out /srv/model --exec "systemctl reload model-server"' });
  const out = opts.out ? resolve(cwd, opts.out) : null;
  const remoteKey = (await resolveRemoteSpec(cwd, opts.remote, env)).key;
  return resolve(cwd, opts.stateDir ?? (out ? join(dirname(out), `.${basename(out)}.modelctl-watch`) : defaultStateDir(env, `${remoteKey} ${opts.ref}`)));
}

function layoutOf(opts: WatchOptions, cwd: string, stateDir: string): DeployLayout | null {
  return opts.out ? { out: resolve(cwd, opts.out), versionsDir: join(stateDir, 'versions'), mode: opts.place ?? 'symlink' } : null;
}

/**
 * One watch per state folder (README, watch): two would both deploy each move, run the hook
 * twice and race on the same version folders. The lock dies with its process (kill -9 too).
 */
function lockStateFolder(stateDir: string): FolderLock {
  const held = tryLockFolder(stateDir, 'watch.lock');
  if (held.lock) return held.lock;
  const who = held.heldBy ? `another watch (pid ${held.heldBy.pid}${held.heldBy.host !== hostname() ? ` on ${held.heldBy.host}` : ''}, since ${held.heldBy.since})` : 'another watch';
  throw new ConflictError('WATCH_RUNNING', `${who} is already using the state folder ${stateDir}`, {
    hint: 'stop that watch first (one watch per --out), or give this one another --out or --state',
    data: { stateDir, pid: held.heldBy?.pid ?? null, host: held.heldBy?.host ?? null },
  });
}

async function watchLocked(opts: WatchOptions, cwd: string, env: NodeJS.ProcessEnv, stateDir: string): Promise<WatchResult> {
  const parsed = parseRef(opts.ref);
  const model = parsed.model;
  const layout = layoutOf(opts, cwd, stateDir);
  const out = layout?.out ?? null;
  const statePath = join(stateDir, 'watch-state.json');
  const state = readState(statePath, opts.ref);
  if (layout) checkDeployTarget(layout, state.placed);
  // Which keys must have signed what (docs/design.md §11): the repository's settings, or a
  // modelctl.json in the folder watch runs from (a deploy host's policy), as for pull.
  const policy = await signaturePolicyOf(cwd, env);
  // The stage names, when watch can know them (a repository or a modelctl.json here).
  const stages = policy.settings?.stages ?? null;
  const report = (r: Omit<WatchReport, 'at' | 'model'>) => opts.onReport?.({ at: new Date().toISOString(), model, ...r });
  const result: WatchResult = { ref: opts.ref, deployed: state.deployed, deployments: 0, failures: 0, interrupted: false };
  const stopped = new Promise<never>((_, reject) => {
    const fire = () => reject(new Abandoned('stopped'));
    if (opts.signal.aborted) fire();
    else opts.signal.addEventListener('abort', fire, { once: true });
  });
  stopped.catch(() => undefined);
  const orStop = <T>(p: Promise<T>): Promise<T> => Promise.race([p, stopped]);

  let cache: RemoteCache | null = null;
  let failuresInARow = 0;
  /** With --once, what the run ends with: its look's failure, or its deploy's (README, Watch). */
  let onceFailed: unknown = null;
  /** The remembered failure this run has reported (its version id). */
  let toldFailed: string | null = null;
  // Whether the cache has fetched every model's metadata (done once, for a model the remote lacks).
  let listedAll = false;
  // A stop while a version is being downloaded or placed abandons work (exit 130); during a
  // metadata look or a pause it is just a stop (exit 0).
  let midStep = false;
  const maxBackoff = Math.max(opts.maxBackoffMs ?? 300_000, opts.intervalMs);
  report({ level: 'info', event: 'started', message: `watching ${opts.ref}${out ? ` into ${out}` : ''}${opts.exec ? `, then running: ${opts.exec}` : ''} (every ${opts.intervalMs / 1000}s; state in ${stateDir})`, version: state.deployed });
  try {
    while (!opts.signal.aborted) {
      try {
        cache ??= await orStop(openRemoteCache({ cwd, remote: opts.remote, cacheDir: join(stateDir, 'cache'), env }));
        await orStop(cache.refresh(model));
        let { target, missing } = resolveTarget(cache, opts.ref);
        if (missing?.code === 'UNKNOWN_MODEL' && !listedAll) {
          // The cache holds only the watched model's metadata: bring in every model once, so
          // the warning below can name the one a typo meant.
          listedAll = true;
          await orStop(cache.refresh());
          ({ target, missing } = resolveTarget(cache, opts.ref));
        }
        if (!target) {
          const again = opts.once ? '' : `; looking again in ${opts.intervalMs / 1000}s`;
          const noStage = missing ? notAStage(parsed, missing, stages) : null;
          // A model the remote does not hold is more often a typo than a model still to come: say so.
          if (missing?.code === 'UNKNOWN_MODEL') {
            const near = Array.isArray(missing.data?.candidates) ? (missing.data.candidates as string[]) : [];
            const text = `${cache.displayUrl} has no model '${model}'${near.length ? ` — did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''}`;
            // --once has no later look for it to appear in: the run fails (exit 3), as pull would.
            if (opts.once) throw new Unresolvable(new NotFoundError('UNKNOWN_MODEL', text, { hint: near.length ? undefined : `list the remote's models with \`modelctl ls --remote ${cache.displayUrl}\``, data: { candidates: near, model } }));
            report({ level: 'warn', event: 'waiting', message: `${text}${again}`, data: { code: missing.code, candidates: near } });
          } else if (noStage) {
            // No promote can ever move a name that is no configured stage (a typo, face@prod).
            if (opts.once) throw new Unresolvable(noStage);
            report({ level: 'warn', event: 'waiting', message: `${noStage.message}${again}`, data: { code: noStage.code, candidates: noStage.data?.candidates } });
          } else {
            // A stage or tag nobody holds yet is plain waiting; one a letter away from a name the
            // remote knows (face@prodution) is most likely a typo, so say which.
            const near = Array.isArray(missing?.data?.candidates) ? (missing.data.candidates as string[]).filter((c) => c !== opts.ref) : [];
            if (near.length) report({ level: 'warn', event: 'waiting', message: `${opts.ref} names no version yet — did you mean ${near.map((n) => `'${n}'`).join(', ')}?${again}`, data: { code: missing!.code, candidates: near } });
            else report({ level: 'info', event: 'waiting', message: `${opts.ref} names no version yet${again}` });
          }
        } else if (target.id === state.deployed?.id) {
          if (state.failed) {
            state.failed = null;
            writeState(statePath, state);
          }
        } else if (target.id !== state.failed?.id || (isSignatureFailure(state.failed) && signaturesNowValid(cache, target))) {
          await deploy(cache, target);
        } else if (toldFailed !== target.id) {
          toldFailed = target.id;
          tellRemembered(target, state.failed);
        }
        failuresInARow = 0;
      } catch (err) {
        if (err instanceof Abandoned || opts.signal.aborted) {
          result.interrupted = midStep;
          break;
        }
        if (err instanceof Unresolvable) throw err.error;
        // A usage error (a remote of another format, a bad setting) will not heal by waiting.
        if (err instanceof ModelctlError && err.exitCode === ExitCode.USAGE) throw err;
        failuresInARow++;
        // With --once there is no next try: the look's failure is the run's outcome (exit code).
        if (opts.once) onceFailed = err;
        const wait = backoffMs(opts.intervalMs, failuresInARow, maxBackoff);
        report({
          level: 'warn',
          event: 'retrying',
          message: opts.once ? describe(err) : `${describe(err)} — trying again in ${Math.round(wait / 1000)}s`,
          data: { code: err instanceof ModelctlError ? err.code : 'INTERNAL', exitCode: err instanceof ModelctlError ? err.exitCode : ExitCode.BUG, attempt: failuresInARow },
        });
        if (err instanceof ModelctlError && err.exitCode === ExitCode.REMOTE && cache) {
          // A new session on the next try: connections may be stale after an outage.
          await cache.close().catch(() => undefined);
          cache = null;
        }
      }
      if (opts.once) break;
      await sleep(failuresInARow ? backoffMs(opts.intervalMs, failuresInARow, maxBackoff) : opts.intervalMs, opts.signal);
    }
  } finally {
    if (cache) {
      if (result.interrupted) void cache.close().catch(() => undefined);
      else await cache.close().catch(() => undefined);
    }
    report({ level: 'info', event: 'stopped', message: result.interrupted ? 'stopped mid-step; the step was abandoned and nothing half-placed was left' : 'stopped', version: state.deployed });
  }
  result.deployed = state.deployed;
  // A cron job's --once that could not look (remote down, no registry there) or whose deploy
  // failed (a refused object or signature: exit 6; a failed --exec: exit 5) must not read as
  // success. The failed deploy stays remembered all the same.
  if (onceFailed) throw onceFailed;
  return result;

  /** A run that starts on a remembered failure says once (not at every look) why it deploys nothing. */
  function tellRemembered(target: VersionRow, failed: NonNullable<WatchState['failed']>): void {
    const then = isSignatureFailure(failed) ? `it is deployed once it is signed, or another once ${opts.ref} moves` : `nothing is tried until ${opts.ref} moves`;
    const version = notPlaced(target, failed.at);
    report({ level: 'warn', event: 'waiting', message: `${opts.ref} is ${version.ref}, whose deploy failed at ${failed.at} (${failed.reason}); ${then}`, version, data: { code: failed.code ?? 'DEPLOY_FAILED', reason: failed.reason } });
  }

  async function deploy(c: RemoteCache, target: VersionRow): Promise<void> {
    const ref = `${target.model}@v${target.number}`;
    const { files } = versionFilesOf(c.repo, `${model}@${target.id}`);
    const move = stageMoveOf(c, model, parsed);
    const previous = state.deployed;
    report({ level: 'info', event: 'stage-moved', message: `${opts.ref} is now ${ref}${previous ? ` (deployed: ${previous.ref})` : ''}${move?.actor ? `, moved by ${move.actor}` : ''}${move?.reason ? `: ${move.reason}` : ''}`, version: notPlaced(target, new Date().toISOString()), previous });
    if (opts.webhook) void notify('stage-moved', target, ref, previous, move);

    let folderName: string | null = null;
    let switched: ReturnType<typeof switchTo> | null = null;
    const placedBefore = state.placed;
    try {
      if (layout) {
        const verified = await download(c, files);
        const signatures = checkSignatures(c, target, files);
        folderName = versionFolderName(target.number, target.id);
        const build = (checked: ReadonlySet<string>) => buildVersionFolder(layout, folderName!, files, (d) => c.repo.store.objectPath(d), opts.link ?? 'auto', checked);
        try {
          build(verified);
        } catch (err) {
          // A cached object (kept from an earlier deploy) that rotted: moved aside and
          // downloaded again, once, instead of failing every restart on the same bytes.
          const digest = corruptObjectDigest(err);
          if (digest === null || !c.repo.store.quarantineObject(digest)) throw err;
          report({ level: 'warn', event: 'cache-repaired', message: `object ${digest.slice(0, 12)} in the cache was corrupt: moved to quarantine, downloading it again`, data: { digest } });
          build(await download(c, files));
        }
        // As pull --out: the folder verifies with model_signing as it is.
        if (signatures) writeDeployedSignature(c.repo.db, target.id, files, join(layout.versionsDir, folderName), signatures.checks, signatures.keys);
        if (opts.signal.aborted) {
          removeVersionFolder(layout, folderName);
          midStep = true;
          throw new Abandoned('stopped');
        }
        if (!state.placed) {
          state.placed = true;
          writeState(statePath, state);
        }
        switched = switchTo(layout, folderName, previous?.folder ? basename(previous.folder) : null);
      } else if (signatureKeysOf(c, target).length) {
        // Nothing is placed, but the hook is told to deploy this version: check it all the same.
        await download(c, files);
        checkSignatures(c, target, files);
      }
      const deployed: DeployedVersion = { id: target.id, number: target.number, ref, folder: switched ? join(layout!.versionsDir, switched.name) : null, at: new Date().toISOString() };
      if (opts.exec) {
        // The hook runs to its end even when a stop arrives meanwhile: half a deploy is worse.
        const vars = execVariables(opts.ref, deployed, previous, move, c.displayUrl, layout, switched?.shown ?? null);
        const outcome = await runShellCommand(opts.exec, {
          cwd,
          env: vars,
          input: `${JSON.stringify({ ref: opts.ref, version: deployed, previous, move })}\n`,
          onLine: (line) => report({ level: 'info', event: 'exec-output', message: line }),
        });
        if (outcome.exitCode !== 0) {
          if (layout && switched) {
            undoSwitch(layout, switched);
            removeVersionFolder(layout, switched.name);
            state.placed = placedBefore; // written with the failure below
          }
          if (opts.signal.aborted) {
            // A stop that also reached the hook (systemd signals the whole unit) says nothing
            // about the version: abandon the step unremembered, so a restart deploys it again.
            writeState(statePath, state);
            midStep = true;
            throw new Abandoned('stopped');
          }
          throw new DeployFailure(`--exec failed with exit code ${outcome.exitCode}; ${previous ? `${previous.ref} stays deployed` : 'nothing stays deployed'}`, undefined, { exitCode: outcome.exitCode, output: outcome.output.slice(-4000) });
        }
      }
      state.previous = previous;
      state.deployed = deployed;
      state.failed = null;
      writeState(statePath, state);
      if (layout) pruneVersionFolders(layout, [folderName, previous?.folder ? basename(previous.folder) : null]);
      result.deployments++;
      report({ level: 'info', event: 'deployed', message: `deployed ${ref}${deployed.folder ? ` at ${layout!.out}` : ''}`, version: deployed, previous });
      if (opts.webhook) void notify('deployed', target, ref, previous, move);
    } catch (err) {
      if (!(err instanceof DeployFailure)) throw err;
      state.failed = { id: target.id, at: new Date().toISOString(), reason: err.message, ...(typeof err.data.code === 'string' ? { code: err.data.code } : {}) };
      writeState(statePath, state);
      result.failures++;
      if (opts.once) onceFailed = onceOutcome(err, ref);
      toldFailed = target.id;
      report({ level: 'error', event: 'deploy-failed', message: `deploy of ${ref} failed: ${err.message}${opts.once ? '' : `; waiting for ${opts.ref} to move`}`, version: notPlaced(target, state.failed.at), previous, data: err.data });
      if (opts.webhook) void notify('deploy-failed', target, ref, previous, move, { reason: err.message, ...err.data });
    }
  }

  /**
   * Makes the version's objects present in the cache (each verified); a stop meanwhile
   * abandons the step (exit 130), a corrupt object is a DeployFailure of this version.
   */
  async function download(c: RemoteCache, files: readonly ManifestFile[]): Promise<Set<string>> {
    try {
      midStep = true;
      const downloading = c.ensureObjects(files);
      barrier('watch-download'); // the interrupt test stops here, a download under way
      const verified = await orStop(downloading);
      midStep = false;
      return verified;
    } catch (err) {
      if (!(err instanceof Abandoned)) midStep = false;
      if (err instanceof ModelctlError && err.exitCode === ExitCode.INTEGRITY) throw new DeployFailure(err.message, err);
      throw err;
    }
  }

  /** The keys that must have signed `target` (its model's and the stages it holds now on the remote). */
  function signatureKeysOf(c: RemoteCache, target: VersionRow) {
    return policy.settings ? pullSignatureKeys(policy.settings, policy.root, model, stagesOfVersion(c.repo.db, target.id)) : [];
  }

  /**
   * The signature gate of pull, before anything is placed: null when no key is required; a
   * DeployFailure (remembered, checked again at each look) when a required key did not sign.
   */
  function checkSignatures(c: RemoteCache, target: VersionRow, files: readonly ManifestFile[]): { checks: SignatureCheck[]; keys: ReturnType<typeof signatureKeysOf> } | null {
    const keys = signatureKeysOf(c, target);
    if (!keys.length) return null;
    try {
      return { checks: verifyBeforePlacing(c.repo.db, c.repo.store, target, files, keys, () => null), keys };
    } catch (err) {
      if (err instanceof ModelctlError && err.exitCode === ExitCode.INTEGRITY) throw new DeployFailure(err.message, err, { code: err.code, ...err.data });
      throw err;
    }
  }

  /** Whether `target`, refused for its signatures, now has every one required (its bytes are in the cache from the refused try). */
  function signaturesNowValid(c: RemoteCache, target: VersionRow): boolean {
    try {
      checkSignatures(c, target, versionFilesOf(c.repo, `${model}@${target.id}`).files);
      return true;
    } catch (err) {
      if (err instanceof DeployFailure) return false;
      throw err;
    }
  }

  async function notify(event: string, target: VersionRow, ref: string, previous: DeployedVersion | null, move: StageMoveInfo | null, extra: Record<string, unknown> = {}): Promise<void> {
    const why = await sendWebhook(opts.webhook!, { event, watch: opts.ref, model, version: { id: target.id, number: target.number, ref }, previous, move, at: new Date().toISOString(), ...extra });
    if (why) report({ level: 'warn', event: 'webhook-failed', message: why });
  }
}

/** Whether a remembered failure was the signature gate (which a later signature can lift). */
function isSignatureFailure(failed: WatchState['failed']): boolean {
  return !!failed?.code?.startsWith('SIGNATURE_');
}

/** Where watch's signature policy comes from: the repository around `cwd`, else a modelctl.json in it (or none). */
async function signaturePolicyOf(cwd: string, env: NodeJS.ProcessEnv): Promise<{ settings: Settings | null; root: string }> {
  return (await repositorySettings(cwd, env)) ?? { settings: await folderSettings(cwd, env), root: cwd };
}

/** A version as reported before (or without) being placed in a folder. */
function notPlaced(target: VersionRow, at: string): DeployedVersion {
  return { id: target.id, number: target.number, ref: `${target.model}@v${target.number}`, folder: null, at };
}

/** The error a `--once` run ends with after `failure`: the refusal's own (exit 6), else DEPLOY_FAILED (exit 5). */
function onceOutcome(failure: DeployFailure, ref: string): ModelctlError {
  const message = `deploy of ${ref} failed: ${failure.message}`;
  const hint = 'the failure is remembered: the next look deploys only when the stage moves (or, for a refused signature, once it is signed)';
  if (failure.cause instanceof ModelctlError) return new ModelctlError(failure.cause.code, message, { exitCode: failure.cause.exitCode, hint, data: { ...failure.cause.data, ...failure.data } });
  return new PolicyError('DEPLOY_FAILED', message, { hint, data: failure.data });
}

/** A deploy that failed for this version (not the network): remembered, not retried. */
class DeployFailure extends Error {
  constructor(
    message: string,
    cause?: unknown,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

interface StageMoveInfo {
  stage: string;
  action: string | null;
  actor: string | null;
  reason: string | null;
  at: string;
}

/**
 * The error for a reference that names no configured stage and that nothing else resolves,
 * when the stage names are known; null for a stage, an id, a version number, or unknown stages.
 */
function notAStage(parsed: ReturnType<typeof parseRef>, missing: NotFoundError, stages: readonly string[] | null): NotFoundError | null {
  if (!stages || parsed.selector.kind !== 'name' || missing.code !== 'UNKNOWN_REF') return null;
  const name = parsed.selector.name;
  if (stages.includes(name) || isIdPrefix(name)) return null;
  const resolvable = Array.isArray(missing.data?.candidates) ? (missing.data.candidates as string[]) : [];
  const near = [...new Set([...closest(name, stages, 1).map((s) => `${parsed.model}@${s}`), ...resolvable])];
  return new NotFoundError('UNKNOWN_STAGE', `'${name}' is not a configured stage (${stages.join(', ')}) and no tag or version of ${parsed.model} has that name${near.length ? ` — did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''}`, {
    hint: 'watch a configured stage (listed under "stages" in modelctl.json) or an existing tag',
    data: { candidates: near, stages: [...stages] },
  });
}

/** The version `ref` names in the cache now, or null (with why) when nothing does (yet). */
function resolveTarget(cache: RemoteCache, ref: string): { target: VersionRow | null; missing: NotFoundError | null } {
  try {
    return { target: resolveRef(cache.repo.db, ref), missing: null };
  } catch (err) {
    if (err instanceof NotFoundError) return { target: null, missing: err };
    throw err;
  }
}

/** Who moved the stage the reference names, when and why (null when it is not a stage). */
function stageMoveOf(cache: RemoteCache, model: string, parsed: ReturnType<typeof parseRef>): StageMoveInfo | null {
  if (parsed.selector.kind !== 'name') return null;
  const name = parsed.selector.name;
  const holding = modelOverviewOf(cache.repo, model).stages.find((s) => s.stage === name);
  return holding ? { stage: name, action: holding.action, actor: holding.actor, reason: holding.reason, at: holding.since } : null;
}

/** The MODELCTL_* variables of a deploy hook (README, watch). */
function execVariables(
  watched: string,
  v: DeployedVersion,
  previous: DeployedVersion | null,
  move: StageMoveInfo | null,
  remote: string,
  layout: DeployLayout | null,
  shown: string | null,
): Record<string, string> {
  const vars: Record<string, string | number | null | undefined> = {
    HOOK: 'watch',
    ACTION: move?.action === 'rollback' ? 'rollback' : 'deploy',
    WATCH: watched,
    MODEL: v.ref.slice(0, v.ref.lastIndexOf('@')),
    STAGE: move?.stage,
    VERSION: v.id,
    NUMBER: v.number,
    REF: v.ref,
    FROM: previous?.id,
    FROM_NUMBER: previous?.number,
    FROM_REF: previous?.ref,
    REASON: move?.reason,
    ACTOR: move?.actor,
    REMOTE: remote,
    OUT: layout?.out,
    PATH: shown,
  };
  return Object.fromEntries(Object.entries(vars).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => [`MODELCTL_${k}`, String(x)]));
}

function readState(path: string, ref: string): WatchState {
  const empty: WatchState = { format: 1, ref, deployed: null, previous: null, failed: null, placed: false };
  if (!existsSync(path)) return empty;
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as Partial<WatchState>;
    // A state file from before `placed` was written: a deployed folder was placed at --out.
    const placed = s.placed === true || typeof s.deployed?.folder === 'string';
    if (s.format !== 1 || s.ref !== ref) return { ...empty, placed };
    return { ...empty, deployed: s.deployed ?? null, previous: s.previous ?? null, failed: s.failed ?? null, placed };
  } catch {
    return empty; // a damaged state file: the next deploy rewrites it
  }
}

function writeState(path: string, state: WatchState): void {
  writeJsonAtomic(path, state);
}

/** The pause after `n` failures in a row: doubling from the interval, capped, ±20% jitter. */
function backoffMs(intervalMs: number, n: number, maxMs: number): number {
  const base = Math.min(maxMs, intervalMs * 2 ** Math.min(n - 1, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function describe(err: unknown): string {
  if (err instanceof ModelctlError) return `${err.message} (${err.code})`;
  return `unexpected failure: ${err instanceof Error ? err.message : String(err)}`;
}

function defaultStateDir(env: NodeJS.ProcessEnv, key: string): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'modelctl', 'watch', createHash('sha256').update(key).digest('hex').slice(0, 16));
}
