import pLimit from 'p-limit';
import { IntegrityError, NotFoundError } from '../errors.js';
import { closest, parseRef } from '../core/refs.js';
import { decodeDoc, keys, removedDocSchema, type RemovedDoc } from '../core/remote-layout.js';
import { findModelId, listVersions, versionFiles, type VersionRow } from '../store/version-records.js';
import { writeTransaction } from '../store/index-db.js';
import { actorOf, resolveActor } from '../workspace/identity.js';
import type { Repository } from '../workspace/repository.js';
import { applyModel, type ModelFetch } from './fetch-apply.js';
import { listModels, readModel } from './fetch-read.js';
import { Rejections, type RejectedDocument } from './rejected-documents.js';
import { describeDifference, stageDifferences, type RefDifference } from './ref-differences.js';
import type { StoreSession } from './remote-session.js';
import { fetchSignatures } from './signature-sync.js';
import { jobsOrDefault } from './transfer-progress.js';
import { resolveIn } from '../workspace/resolve-in.js';

export type { ModelFetch } from './fetch-apply.js';
export type { RejectedDocument } from './rejected-documents.js';

/** What a fetch brought. The --json shape. */
export interface FetchResult {
  remote: string;
  models: ModelFetch[];
  /** Remote documents that failed a check: skipped, nothing stored from them. */
  rejected: RejectedDocument[];
  /** Stages that name another version here than on the remote (an unpushed local move, or a version not fetched). */
  differingStages: RefDifference[];
  warnings: string[];
  /** Signatures and attestations brought (docs/design.md §11). */
  signatures: number;
}

/**
 * Brings the remote's versions (manifests, numbers), tags, stages and events into the
 * index — no file bytes (docs/design.md §7). Each model is read first, every document
 * checked, then applied in one transaction. A document that fails its check is skipped
 * and listed in `rejected`; everything valid is still brought.
 */
export async function fetchInto(repo: Repository, session: StoreSession, opts: { model?: string; jobs?: number; argv?: readonly string[] } = {}): Promise<FetchResult> {
  const limit = pLimit(jobsOrDefault(opts.jobs));
  const rejections = new Rejections();
  const warnings: string[] = [];
  const models: ModelFetch[] = [];
  // `git config user.email` (a child process) runs while the remote is listed: only a
  // renumbering records an event, and a pull in CI should not wait for git first.
  // (resolveActor never rejects: no git, no email, is the OS user.) A throwaway store (a
  // pull outside a repository) starts empty and never renumbers: no git to ask at all.
  const actor = repo.store.durable ? resolveActor(repo.root) : Promise.resolve(actorOf(null));
  const listings = await listModels(session, opts.model);
  const ctx = { actor: await actor, argv: opts.argv ?? [], remote: session.displayUrl };
  if (opts.model !== undefined && listings.size === 0 && findModelId(repo.db, opts.model) === null) throw await unknownModelThere(session, opts.model);
  for (const [name, listing] of [...listings.entries()].sort()) {
    const read = await readModel(repo, session, name, listing, limit, rejections);
    models.push(writeTransaction(repo.db, () => applyModel(repo.db, session.remoteId, name, listing, read, ctx, warnings)));
  }
  // Signatures after the versions they sign (docs/design.md §11): of the one model asked
  // for, or of every version known.
  const only = opts.model === undefined ? undefined : new Set(listVersions(repo.db, opts.model).map((v) => v.id));
  const signatures = await fetchSignatures(repo.db, session.remote, session.remoteId, only);
  for (const r of signatures.rejected) rejections.reject(r.key, r.code, r.reason);
  const differingStages = stageDifferences(repo.db, session.remoteId, models.map((m) => m.model));
  for (const d of differingStages) warnings.push(describeDifference(repo.db, d, session.displayUrl));
  return { remote: session.displayUrl, models, rejected: rejections.list, differingStages, warnings, signatures: signatures.fetched };
}

/**
 * Resolves the reference after a fetch. When it names nothing and the fetch rejected
 * documents of its model, the version asked for may be the corrupt one: IntegrityError (6)
 * naming them rather than "not found".
 */
export function resolveFetchedRef(repo: Repository, ref: string, fetched: FetchResult): VersionRow {
  const { rejected } = fetched;
  try {
    return resolveIn(repo, ref);
  } catch (err) {
    if (!(err instanceof NotFoundError) || rejected.length === 0) throw err;
    // The code is the first rejected document's own (INVALID_MANIFEST, MANIFEST_ID_MISMATCH, …).
    throw new IntegrityError(rejected[0].code, `${ref} cannot be used: the remote's ${rejected.map((r) => r.key).join(', ')} failed ${rejected.length === 1 ? 'its check' : 'their checks'}: ${rejected[0].reason}`, {
      hint: 'the remote holds a corrupt or crafted document; nothing was stored from it',
      data: { rejected },
    });
  }
}

/**
 * resolveFetchedRef for a pull. A number this repository never held whose tombstone is on
 * the remote (another clone removed it before this one fetched) is NotFoundError
 * `VERSION_REMOVED_ON_REMOTE` (3) naming who removed it, when and why — not "unknown
 * reference", which would send the user looking for a typo.
 */
export async function resolvePulledRef(repo: Repository, session: StoreSession, ref: string, fetched: FetchResult): Promise<VersionRow> {
  try {
    return resolveFetchedRef(repo, ref, fetched);
  } catch (err) {
    if (err instanceof NotFoundError && err.code === 'UNKNOWN_MODEL') throw await withRemoteModels(session.displayUrl, err, async () => [...(await listModels(session, undefined)).keys()]);
    if (!(err instanceof NotFoundError) || err.code !== 'UNKNOWN_REF') throw err;
    const parsed = parseRef(ref);
    if (parsed.selector.kind !== 'number') throw err;
    const key = keys.removed(parsed.model, parsed.selector.number);
    const got = await session.remote.get(key).catch(() => null);
    if (!got) throw err;
    let gone: RemovedDoc;
    try {
      gone = decodeDoc(removedDocSchema, got.body, key);
    } catch {
      throw err; // a tombstone that fails its check says nothing trustworthy: the plain answer stands
    }
    throw removedOnRemote(fetched.remote, parsed.model, { ...gone, id: gone.version }, { held: 0, files: 0 });
  }
}

/**
 * `fetch <model>` for a model neither the remote nor this index holds is a typo far more
 * often than a model nobody pushed yet: NotFoundError (3) with the remote's closest names
 * (README exit codes: 3 is a model not found), not an empty, successful fetch.
 */
async function unknownModelThere(session: StoreSession, model: string): Promise<NotFoundError> {
  const near = closest(model, [...(await listModels(session, undefined)).keys()]);
  return new NotFoundError('UNKNOWN_MODEL', `${session.displayUrl} has no model named '${model}'${near.length ? ` — did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''}`, {
    // A configured remote by its name: its URL alone would lose the endpoint it has.
    hint: near.length ? undefined : `see the models there with \`modelctl ls --remote ${session.name ?? session.displayUrl}\``,
    data: { candidates: near, model },
  });
}

/**
 * A read from a remote fetched only the model it names, so a typo's "did you mean" could
 * offer only the models this index already holds — none, with no repository (a CI pull).
 * When it found none, the remote's own model names (`names`) are listed; a failed listing
 * keeps the plain answer. Anything but UNKNOWN_MODEL is returned as it is.
 */
export async function withRemoteModels(displayUrl: string, err: unknown, names: () => Promise<string[]>): Promise<unknown> {
  if (!(err instanceof NotFoundError) || err.code !== 'UNKNOWN_MODEL') return err;
  const model = err.data?.model;
  if (typeof model !== 'string' || (Array.isArray(err.data?.candidates) && err.data.candidates.length)) return err;
  const near = closest(model, await names().catch(() => []));
  if (!near.length) return err;
  return new NotFoundError(err.code, `${displayUrl} has no model named '${model}' — did you mean ${near.map((n) => `'${n}'`).join(', ')}?`, {
    hint: err.hint,
    data: { ...err.data, candidates: near },
    cause: err,
  });
}

/**
 * A version the remote has removed (its tombstone, docs/design.md §16) cannot be pulled
 * from it: NotFoundError (3) naming the remote, who removed it, why, and whether the bytes
 * this repository holds are all of it (the only copy left).
 */
export function assertNotRemovedOnRemote(repo: Repository, v: VersionRow, fetched: FetchResult): void {
  const gone = fetched.models.find((m) => m.model === v.model)?.removedOnRemote.find((r) => r.id === v.id);
  if (!gone) return;
  const files = versionFiles(repo.db, v.id);
  const held = files.filter((f) => repo.store.hasObject(f.digest)).length;
  throw removedOnRemote(fetched.remote, v.model, gone, { held, files: files.length });
}

/**
 * NotFoundError `VERSION_REMOVED_ON_REMOTE` (3): who removed `model@v<number>` from `remote`,
 * when and why, and how many of its files this repository holds (then the only copy left).
 */
function removedOnRemote(remote: string, model: string, gone: { number: number; id: string; reason: string; actor: string; at: string }, local: { held: number; files: number }): NotFoundError {
  const ref = `${model}@v${gone.number}`;
  const { held, files } = local;
  const holds =
    held === 0
      ? 'this repository holds none of its files'
      : held === files
        ? 'this repository holds all its files, the only copy left'
        : `this repository holds ${held} of its ${files} files, the only copy left`;
  const another = `pick another version (\`modelctl log ${model}\`)`;
  return new NotFoundError('VERSION_REMOVED_ON_REMOTE', `${ref} was removed from ${remote} by ${gone.actor} at ${gone.at} (reason: ${gone.reason}); ${holds}`, {
    hint: held > 0 && held === files ? `keep it with \`modelctl export ${ref} -o ${model.replace(/\//g, '-')}-v${gone.number}.tar\` if you still need it; ${another}` : another,
    data: { remote, model, number: gone.number, id: gone.id, reason: gone.reason, actor: gone.actor, at: gone.at, localFiles: held, files },
  });
}
