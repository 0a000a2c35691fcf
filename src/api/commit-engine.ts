import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { buildEvent } from '../core/events.js';
import type { JsonValue } from '../core/key-values.js';
import { parseKeyValue } from '../core/key-values.js';
import {
  FORMAT_VERSION,
  manifestId,
  serializeManifest,
  versionIdentity,
  versionManifestSchema,
  type CodeLineage,
  type Lineage,
  type ManifestFile,
  type RunLineage,
  type VersionManifest,
} from '../core/manifest.js';
import { assertNoReservedCaseVariant, assertTagName } from '../core/names.js';
import { formatByName } from '../formats/format-name.js';
import { appendEvent } from '../store/events-table.js';
import { assertObjectsKept } from '../store/gc-claims.js';
import { writeTransaction } from '../store/index-db.js';
import { barrier, stuckIoBarrier } from '../store/test-barrier.js';
import { setInterruptNote } from '../store/interrupt-note.js';
import { interruptionPoint } from '../store/temp-files.js';
import { assertTagFree, getTag, setTag } from '../store/tags-table.js';
import { insertTensorSummaries } from '../store/tensor-summaries.js';
import { ensureModel, findModelId, getVersion, insertVersion, latestVersion, nextVersionNumber, recordFileChunks } from '../store/version-records.js';
import { assertSettingsPathInside, selectFiles, type SelectedFile } from '../workspace/file-selection.js';
import { readGitLineage, type GitReading } from '../workspace/git-state.js';
import { assertPreHookPassed, runHook, type HookOutcome } from '../workspace/hooks.js';
import { actorOf, captureEnvironment, hostName, resolveActor } from '../workspace/identity.js';
import { readKeyValueFile } from '../workspace/key-value-file.js';
import { rememberWorkspaceVersion } from './checkout-engine.js';
import { dataInputPaths, describeDataInputs } from './data-inputs.js';
import { recordedPaths } from './recorded-paths.js';
import { hashWorkingFiles, recordKeepingObjects } from './file-hashing.js';
import type { LockUpdate } from './lock-update.js';
import type { Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

/** What to snapshot and the lineage a user gives (the options of `modelctl commit`). */
export interface CommitRequest {
  model: string;
  /** Paths, folders and globs; default: the model's `paths` in modelctl.json. */
  paths?: string[];
  message?: string;
  /** `k=v` strings (values keep JSON scalar types). */
  params?: string[];
  paramsFile?: string;
  metrics?: string[];
  metricsFile?: string;
  /** Files, folders or URIs the model was trained on. */
  data?: string[];
  /** Reference of the version this one was fine-tuned from (any model). */
  parent?: string;
  tag?: string;
  /** Recorded as the command line in lineage and the commit event. */
  argv?: string[];
}

/** What an engine caller (modelctl run) adds to a commit request. */
export interface CommitExtras {
  /** Root-relative files added to the selection (the run's log). */
  extraFiles?: string[];
  /** Code lineage captured earlier (run: before the command started); default: read now. */
  code?: CodeLineage | null;
  /** The run that produced the files (lineage.run, docs/design.md §14). */
  run?: RunLineage;
}

export interface CommitResult {
  /** False when content and lineage equal the latest version: nothing was created. */
  created: boolean;
  version: VersionSummary;
  files: { path: string; size: number; digest: string; stored: boolean }[];
  /** Files whose bytes were read this time (the rest came from the stat cache). */
  hashedFiles: number;
  hooks: HookOutcome[];
  /** What was written into modelctl.lock (set by the verbs that keep it; null: not asked to). */
  lock?: LockUpdate | null;
}

/**
 * Snapshots files into a new version of `opts.model` in an open repository: objects are
 * stored first (each atomically), then the manifest, then one index transaction adds the
 * version, its number, tag and commit event. Identical files and lineage to the latest
 * version create nothing. The model name must have been checked by the caller.
 */
export async function commitVersion(repo: Repository, opts: CommitRequest & CommitExtras): Promise<CommitResult> {
  const modelSettings = repo.settings.models[opts.model];
  if (opts.tag) {
    assertTagName(opts.tag, repo.settings.stages);
    assertNoReservedCaseVariant(opts.tag, repo.settings.stages);
    // A --tag already on another version refuses the commit before anything is stored; the
    // tag may still land on the latest version, when this commit turns out to be it again.
    assertCommitTagFree(repo, opts.model, opts.tag, latestVersion(repo.db, opts.model)?.id ?? null);
  }
  const patterns = opts.paths?.length ? opts.paths : modelSettings?.paths ?? [];
  if (patterns.length === 0) {
    throw new UsageError('NO_PATHS', `no files given for '${opts.model}'`, {
      hint: `pass paths (modelctl commit ${opts.model} model/) or set models.${opts.model}.paths in modelctl.json`,
    });
  }
  // Git runs in other processes (docs/design.md §4, lineage): started first, so they work
  // while this thread selects files and reads params, before the pre-commit hook as ever.
  // Neither promise rejects (no git, not a repository: no code lineage, the OS user).
  const gitAnswers: Promise<{ actor: string; code: GitReading['code'] }> =
    opts.code !== undefined
      ? resolveActor(repo.root).then((actor) => ({ actor, code: async () => opts.code ?? null }))
      : readGitLineage(repo.root).then((git) => ({ actor: actorOf(git.email), code: git.code }));
  // Paths from modelctl.json are relative to the root; paths typed by the user, to cwd.
  const selected = await selectFiles(repo.root, opts.paths?.length ? repo.cwd : repo.root, patterns);
  if (opts.extraFiles?.length) mergeSelected(selected, await selectFiles(repo.root, repo.root, opts.extraFiles));
  if (selected.length === 0) throw new UsageError('NO_FILES', 'the given paths hold no files');

  const params = await gatherKeyValues(repo, opts.model, 'param', opts.paramsFile, modelSettings?.params, opts.params);
  const metrics = await gatherKeyValues(repo, opts.model, 'metric', opts.metricsFile, modelSettings?.metrics, opts.metrics);
  const parent = opts.parent ? resolveIn(repo, opts.parent) : null;
  // --data paths are relative to the current folder; those in modelctl.json to the root, like its other paths.
  const dataFrom = opts.data ? { inputs: opts.data, repo } : { inputs: modelSettings?.data ?? [], repo: { ...repo, cwd: repo.root } };
  const data = await describeDataInputs(dataFrom.repo, dataFrom.inputs);
  // What this version records itself does not make the tree dirty (README, Lineage recorded).
  const metricsPath = opts.metricsFile ? resolve(repo.cwd, opts.metricsFile) : modelSettings?.metrics ? resolve(repo.root, modelSettings.metrics) : null;
  const { actor, code: codeLineageOf } = await gitAnswers;
  const code = await codeLineageOf(recordedPaths(repo, { files: selected.map((f) => f.abs), metrics: metricsPath, data: dataInputPaths(dataFrom.repo, dataFrom.inputs) }));
  const argv = opts.argv ?? [];

  const hooks: HookOutcome[] = [];
  const pre = await runHook(repo.metaDir, repo.root, 'pre-commit', { action: 'commit', model: opts.model, paths: selected.map((f) => f.rel), params, metrics }, {
    action: 'commit',
    model: opts.model,
    actor,
  });
  hooks.push(pre);
  assertPreHookPassed(pre);

  // Objects first: a crash after this leaves only unreferenced objects, which gc drops.
  const hashed = hashWorkingFiles(repo, selected, { store: true });
  barrier('commit-after-hash');
  const files: ManifestFile[] = hashed.map((h) => ({
    path: h.rel,
    size: h.size,
    mode: h.mode,
    digest: h.digest,
    ...(h.chunks && h.chunks.length === 1 ? { chunk: h.chunks[0].digest } : {}),
  }));
  const lineage: Lineage = {
    code,
    data,
    params,
    metrics,
    parent: parent ? { model: parent.model, version: parent.id } : null,
    environment: captureEnvironment(actor, repo.env),
    argv,
    ...(opts.run ? { run: opts.run } : {}),
  };
  const manifest: VersionManifest = {
    format: FORMAT_VERSION,
    model: opts.model,
    files,
    lineage,
    created: new Date().toISOString(),
    author: actor,
    message: opts.message ?? '',
  };
  const identity = versionIdentity(manifest);
  const fileReport = hashed.map((h) => ({ path: h.rel, size: h.size, digest: h.digest, stored: h.rehashed }));

  const latest = latestVersion(repo.db, opts.model);
  if (latest && latest.identity === identity && !opts.tag) {
    rememberWorkspaceVersion(repo, latest, files);
    return { created: false, version: summarizeVersion(repo.db, latest), files: fileReport, hashedFiles: hashed.filter((h) => h.rehashed).length, hooks };
  }
  if (opts.tag) assertCommitTagFree(repo, opts.model, opts.tag, latest && latest.identity === identity ? latest.id : null);
  await stuckIoBarrier('commit-stuck-io');
  // Ctrl-C during hashing is acted on here, before the version becomes visible.
  await interruptionPoint();
  // Never write a manifest our own reader would refuse (a 70 KiB message, a bad path):
  // such a version could not be read, checked out or verified ever after.
  const valid = versionManifestSchema.safeParse(manifest);
  if (!valid.success) {
    const issue = valid.error.issues[0];
    throw new UsageError('INVALID_VERSION', `cannot record this version: ${issue.path.join('.')}: ${issue.message}`, {
      hint: 'shorten or fix the value named (see the README for the limits)',
    });
  }
  const bytes = serializeManifest(manifest);
  const id = manifestId(bytes);
  repo.store.writeManifest(id, bytes);
  // Headers only, from the objects just stored; recorded with the version (docs/design.md §15).
  // The readers (~70 KB of modules) are loaded only when a file's name is a model format's.
  const tensorSummaries = files.some((f) => formatByName(f.path)) ? (await import('./tensor-summary-step.js')).summarizeTensorFiles(repo, files) : [];

  let created = false;
  let commitEventId: string | null = null;
  barrier('commit-before-record');
  const record = () => writeTransaction(repo.db, () => {
    // Re-check inside the write lock: a concurrent commit may have added the same content.
    const latestNow = latestVersion(repo.db, opts.model);
    let target = id;
    if (latestNow && latestNow.identity === identity) {
      target = latestNow.id;
    } else {
      // The objects this version names must still be there, and no gc may be deleting
      // them: a gc that decided before this transaction may have taken reused ones.
      assertObjectsKept(repo.db, files.map((f) => f.digest), (d) => repo.store.objectPath(d));
      const modelId = ensureModel(repo.db, opts.model);
      const number = nextVersionNumber(repo.db, modelId);
      insertVersion(repo.db, { id, manifest, number, identity });
      for (const h of hashed) if (h.chunks) recordFileChunks(repo.db, h.digest, h.chunks);
      insertTensorSummaries(repo.db, id, tensorSummaries);
      const event = buildEvent({
        actor,
        host: hostName(),
        action: 'commit',
        model: opts.model,
        version: id,
        from: null,
        to: `v${number}`,
        reason: opts.message ?? null,
        argv,
        data: { number, files: files.length, totalSize: files.reduce((s, f) => s + f.size, 0) },
      });
      appendEvent(repo.db, event);
      commitEventId = event.id;
      created = true;
    }
    if (opts.tag) {
      const modelId = ensureModel(repo.db, opts.model);
      const before = setTag(repo.db, { modelId, model: opts.model, name: opts.tag, versionId: target, message: null, actor, force: false });
      if (before === null) {
        appendEvent(
          repo.db,
          buildEvent({ actor, host: hostName(), action: 'tag', model: opts.model, version: target, from: null, to: target, reason: null, argv, data: { tag: opts.tag, number: getVersion(repo.db, target)?.number ?? null } }),
        );
      }
    }
    return target;
  });
  const versionId = await recordKeepingObjects(repo, record, hashed, () => repo.store.writeManifest(id, bytes));
  const row = getVersion(repo.db, versionId);
  if (!row) throw new Error('BUG: committed version not found');
  const version = summarizeVersion(repo.db, row);
  // The work tree now holds this version: status compares with it, checkout replaces it.
  rememberWorkspaceVersion(repo, row, files);
  if (created) {
    setInterruptNote(`${opts.model}@v${version.number} was committed (recorded before the post-commit hook ran)`);
    try {
      hooks.push(
        await runHook(repo.metaDir, repo.root, 'post-commit', { action: 'commit', version }, {
          action: 'commit',
          model: opts.model,
          version: version.id,
          number: version.number,
          ref: `${opts.model}@v${version.number}`,
          actor,
          event_id: commitEventId,
        }),
      );
    } finally {
      setInterruptNote(null);
    }
  }
  return { created, version, files: fileReport, hashedFiles: hashed.filter((h) => h.rehashed).length, hooks };
}

/** Adds `more` to the sorted selection `into` (in place), keeping it sorted and unique. */
function mergeSelected(into: SelectedFile[], more: readonly SelectedFile[]): void {
  const seen = new Set(into.map((f) => f.rel));
  for (const f of more) if (!seen.has(f.rel)) into.push(f);
  into.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * Params or metrics of a commit: the file given on the command line (relative to the
 * current folder) or else the model's configured file (relative to the root), then each
 * `k=v` pair on top, so a pair overrides the file's value.
 */
async function gatherKeyValues(
  repo: Repository,
  model: string,
  kind: 'param' | 'metric',
  explicitFile: string | undefined,
  configuredFile: string | undefined,
  pairs: readonly string[] | undefined,
): Promise<Record<string, JsonValue>> {
  const out: Record<string, JsonValue> = {};
  const file = explicitFile ?? configuredFile;
  if (file && !explicitFile) assertSettingsPathInside(repo.root, file);
  if (file) Object.assign(out, await readKeyValueFile(explicitFile ? repo.cwd : repo.root, file, kind, explicitFile ? { from: 'flag' } : { from: 'settings', model }));
  for (const kv of pairs ?? []) {
    const [k, v] = parseKeyValue(kv, kind);
    out[k] = v;
  }
  return out;
}

/**
 * Throws TAG_EXISTS (4) when `tag` names a version other than `landsOn` (the version the
 * commit's tag would point at, or null for a new one): checked before the manifest is
 * written, so a refused commit leaves nothing a later `verify --rebuild-index` would revive.
 */
function assertCommitTagFree(repo: Repository, model: string, tag: string, landsOn: string | null): void {
  const modelId = findModelId(repo.db, model);
  if (modelId === null) return;
  const existing = getTag(repo.db, modelId, tag);
  if (existing !== null && existing.versionId !== landsOn) assertTagFree(repo.db, modelId, model, tag);
}
