import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { describeGrace, gcGraceSeconds } from '../store/gc-grace.js';
import { IntegrityError } from '../errors.js';
import { parseManifest } from '../core/manifest.js';
import { hashFileSync } from '../store/hash-file.js';
import { interruptionPoint, interruptionPoints } from '../store/temp-files.js';
import { barrier } from '../store/test-barrier.js';
import { journalToRestore, readJournal, indexBehindJournal } from '../store/ref-journal.js';
import { hasObjectRow, versionFiles } from '../store/version-records.js';
import { allVersionIds, isVersionOnSomeRemote, neededDigests, quickCheck, refsNaming, refsOfVersions } from '../store/verify-queries.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';
import type { VerifyProblem, VerifyProblemKind, VerifyResult } from './verify-report.js';
import { resolveIn } from '../workspace/resolve-in.js';

export type { VerifyProblem, VerifyProblemKind, VerifyResult } from './verify-report.js';

export interface VerifyOptions extends CommonOptions {
  /** Only this version's manifest and objects; default: the whole store. */
  ref?: string;
}

/** Kinds that `verify --rebuild-index` repairs. */
const INDEX_KINDS: ReadonlySet<VerifyProblemKind> = new Set(['unindexed-version', 'index-behind', 'index-corrupt']);

/** Kinds that are reported but leave verify ok: what an interrupted command leaves, harmless. */
const HARMLESS: ReadonlySet<VerifyProblemKind> = new Set(['unindexed-object', 'unrecorded-manifest']);

/**
 * Re-hashes every object (or one version's) and re-reads every manifest against its id,
 * and checks every version's files are present. Reports each problem; repairs nothing, but
 * moves a corrupt object or manifest aside (ObjectStore.quarantineObject, quarantineManifest)
 * so that a pull brings it again.
 * The caller decides the exit (the CLI exits 6 when `ok` is false).
 */
export async function verify(opts: VerifyOptions = {}): Promise<VerifyResult> {
  return withRepository(opts, async (repo) => {
    const problems: VerifyProblem[] = [];
    // Hashing is synchronous: without these a Ctrl-C waited for the whole store, then exited 0.
    const interruptible = interruptionPoints();
    let objectsChecked = 0;
    let bytesChecked = 0;
    let manifestsChecked = 0;
    let remoteOnly = 0;
    const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
    const checkObject = async (digest: string) => {
      barrier('verify-object');
      await interruptible();
      if (!repo.store.hasObject(digest)) {
        problems.push({ kind: 'missing-object', id: digest, detail: 'object is not in the store' });
        return;
      }
      const h = hashFileSync(repo.store.objectPath(digest), undefined, buffer);
      objectsChecked++;
      bytesChecked += h.size;
      if (h.digest !== digest) {
        // Moved aside so the next pull brings the object again instead of trusting these bytes.
        const quarantined = repo.store.quarantineObject(digest);
        problems.push({ kind: 'corrupt-object', id: digest, detail: `bytes hash to ${h.digest}${quarantined ? `; moved to ${relative(repo.root, quarantined)}` : ''}`, ...(quarantined ? { quarantined } : {}) });
      }
    };
    const checkManifest = (id: string) => {
      const bytes = repo.store.readManifestBytes(id);
      manifestsChecked++;
      if (!bytes) {
        problems.push({ kind: 'missing-manifest', id, detail: 'manifest is not in the store' });
        return;
      }
      try {
        parseManifest(bytes, id);
      } catch (err) {
        // Bytes that do not hash to their id are moved aside, as a corrupt object is, so the
        // next pull brings the manifest again; one that hashes but fails its schema stays (a
        // remote holds the same bytes).
        const quarantined = err instanceof IntegrityError && err.code === 'MANIFEST_ID_MISMATCH' ? repo.store.quarantineManifest(id) : null;
        const message = err instanceof Error ? err.message : String(err);
        problems.push({ kind: 'corrupt-manifest', id, detail: `${message}${quarantined ? `; moved to ${relative(repo.root, quarantined)}` : ''}`, ...(quarantined ? { quarantined } : {}) });
      }
    };

    let versionIds: string[];
    if (opts.ref) {
      const v = resolveIn(repo, opts.ref);
      versionIds = [v.id];
      checkManifest(v.id);
      // As for the whole store: a version some remote holds may be metadata only here. An
      // object with a row that is gone from disk is still missing.
      const held = isVersionOnSomeRemote(repo.db, v.id);
      for (const digest of new Set(versionFiles(repo.db, v.id).map((f) => f.digest))) {
        if (held && !repo.store.hasObject(digest) && !hasObjectRow(repo.db, digest)) remoteOnly++;
        else await checkObject(digest);
      }
    } else {
      // A damaged index answers queries wrongly or not at all: report it and check nothing
      // that would rest on it.
      const damage = indexDamage(repo);
      if (damage.length) {
        for (const message of damage) problems.push({ kind: 'index-corrupt', id: 'index.db', detail: `${message}; run \`modelctl verify --rebuild-index\`` });
        return { ok: false, objectsChecked, bytesChecked, manifestsChecked, versionsChecked: 0, problems, tempFilesRemoved: repo.store.sweepTemp(), remoteOnly, affected: [], withoutRemote: [] };
      }
      const behind = indexBehindJournal(repo.db);
      if (behind) {
        problems.push({
          kind: 'index-behind',
          id: 'index.db',
          detail: `the journal holds ${behind.missing} change(s) the index lost (restored from an older copy, or its WAL was lost); run \`modelctl verify --rebuild-index\``,
        });
      }
      versionIds = allVersionIds(repo.db);
      const indexed = new Set(versionIds);
      for (const id of versionIds) checkManifest(id);
      // Manifests the index does not know: the journal tells a version the index lost from
      // a commit killed before it recorded one. Their objects are needed either way.
      const unindexed = [...repo.store.listManifests()].filter((id) => !indexed.has(id));
      const journaled = unindexed.length ? journaledVersionIds(repo) : new Set<string>();
      const namedByUnindexed = new Map<string, string>();
      for (const id of unindexed) {
        checkManifest(id);
        const bytes = repo.store.readManifestBytes(id);
        try {
          for (const f of parseManifest(bytes as Buffer, id).files) namedByUnindexed.set(f.digest, id);
        } catch {
          continue; // reported by checkManifest
        }
        problems.push(
          journaled.has(id)
            ? { kind: 'unindexed-version', id, detail: 'the journal records this version but the index lacks it: the index is behind the store; run `modelctl verify --rebuild-index`' }
            : { kind: 'unrecorded-manifest', id, detail: 'no index row and no journal line: left by a command interrupted before it recorded its version (commit, fetch, import); gc keeps its objects, `modelctl verify --rebuild-index` records it' },
        );
      }
      const onDisk = new Set<string>();
      for (const digest of repo.store.listObjects()) {
        onDisk.add(digest);
        await checkObject(digest);
        if (hasObjectRow(repo.db, digest)) continue;
        const manifest = namedByUnindexed.get(digest);
        problems.push({
          kind: 'unindexed-object',
          id: digest,
          detail: manifest
            ? `present on disk but not in the index; named by manifest ${manifest.slice(0, 12)}, which the index lacks, so gc keeps it`
            : `present on disk but not in the index (left by an interrupted command, or a commit still running); ${whenGcRemoves(repo, digest)}`,
        });
      }
      for (const n of neededDigests(repo.db)) {
        if (onDisk.has(n.digest)) continue;
        // A version some remote holds may be metadata only here (fetched, or thinned by
        // gc --keep-last): pull brings its bytes. One no remote is known to hold has no
        // other copy: its objects must be here.
        if (hasObjectRow(repo.db, n.digest)) {
          problems.push({ kind: 'missing-object', id: n.digest, detail: 'a version needs it but it is not in the store' });
        } else if (!n.allOnRemote) {
          problems.push({ kind: 'missing-object', id: n.digest, detail: `version ${n.versionId.slice(0, 12)} needs it, it is not in the store, and no remote is known to hold that version` });
        }
      }
    }
    await interruptionPoint(); // a Ctrl-C during the last steps: no report for a run cut short
    const tempFilesRemoved = repo.store.sweepTemp();
    // Orphans from a crash are harmless (never referenced): report them but stay ok.
    const ok = problems.every((p) => HARMLESS.has(p.kind));
    const damaged = refsNaming(repo.db, problems.filter((p) => p.kind === 'missing-object' || p.kind === 'corrupt-object').map((p) => p.id));
    const lostManifests = refsOfVersions(repo.db, problems.filter((p) => p.kind === 'missing-manifest' || p.kind === 'corrupt-manifest').map((p) => p.id));
    const affected = [...new Set([...damaged.refs, ...lostManifests.map((m) => m.ref)])].sort();
    const withoutRemote = [...new Set([...damaged.withoutRemote, ...lostManifests.filter((m) => !m.onRemote).map((m) => m.ref)])].sort();
    return { ok, objectsChecked, bytesChecked, manifestsChecked, versionsChecked: versionIds.length, problems, tempFilesRemoved, remoteOnly, affected, withoutRemote };
  });
}

/** Throws IntegrityError (exit 6) naming the problems when a verify result is not ok. */
export function assertVerified(result: VerifyResult): void {
  if (result.ok) return;
  const bad = result.problems.filter((p) => !HARMLESS.has(p.kind));
  throw new IntegrityError('VERIFY_FAILED', `${bad.length} problem${bad.length === 1 ? '' : 's'} found: ${bad.slice(0, 5).map((p) => `${p.kind} ${p.id.slice(0, 12)}`).join(', ')}${bad.length > 5 ? ', …' : ''}`, {
    hint: bad.some((p) => INDEX_KINDS.has(p.kind))
      ? 'the index is damaged or behind the store: run `modelctl verify --rebuild-index`'
      : repairHint(result),
    data: { problems: bad },
  });
}

/**
 * How to bring the bytes back: pull again each affected version a remote holds (a corrupt
 * object was moved to quarantine/, so the pull downloads it, or stores the workspace's intact
 * copy). A version on no remote cannot be pulled (the pull would fail for want of a remote,
 * or of the version on it): its files must be committed again from an intact copy, which
 * stores their bytes under the same digests, or the store restored from a backup.
 */
function repairHint(result: VerifyResult): string {
  const moved = result.problems.some((p) => p.quarantined) ? `corrupt ${result.problems.some((p) => p.quarantined && p.kind === 'corrupt-manifest') ? 'files' : 'objects'} were moved to .modelctl/quarantine/; ` : '';
  if (result.affected.length === 0) return `${moved}pull the affected versions again from a remote, or restore the store from a backup`;
  const unpullable = new Set(result.withoutRemote);
  const pullable = result.affected.filter((r) => !unpullable.has(r));
  const steps: string[] = [];
  if (pullable.length) {
    const pulls = pullable.slice(0, 3).map((r) => `\`modelctl pull ${r}\``).join(', ');
    steps.push(`bring the files back with ${pulls}${pullable.length > 3 ? ` (and ${pullable.length - 3} more: see --json "affected")` : ''} — add --out <dir> to leave the workspace as it is`);
  }
  if (unpullable.size) {
    const named = result.withoutRemote.slice(0, 3).join(', ') + (unpullable.size > 3 ? ` (and ${unpullable.size - 3} more: see --json "withoutRemote")` : '');
    // A lost manifest is the version itself: committing its files again makes another one.
    const manifestLost = result.problems.some((p) => p.kind === 'missing-manifest' || p.kind === 'corrupt-manifest');
    steps.push(
      `${named} ${unpullable.size === 1 ? 'is' : 'are'} on no remote: ${
        manifestLost ? 'a lost manifest has no other copy' : 'from an intact copy of the files, `modelctl commit <model> <paths…>` stores their bytes again (as a new version)'
      }`,
    );
  }
  return `${moved}${steps.join('; ')} — or restore the store from a backup`;
}

/** What SQLite's quick_check finds wrong with the index (empty when nothing). */
function indexDamage(repo: Repository): string[] {
  try {
    return quickCheck(repo.db).slice(0, 20);
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

/** Version ids the ref journal records (read only when some manifest lacks an index row). */
function journaledVersionIds(repo: Repository): Set<string> {
  const file = journalToRestore(repo.metaDir);
  const ids = new Set<string>();
  if (file) for (const r of readJournal(file)) if (r.k === 'version') ids.add(r.id);
  return ids;
}

/** When gc will remove an unindexed object: it keeps objects younger than the grace period. */
function whenGcRemoves(repo: Repository, digest: string): string {
  const grace = gcGraceSeconds(repo.env);
  const ageSeconds = (Date.now() - statSync(repo.store.objectPath(digest)).mtimeMs) / 1000;
  if (ageSeconds >= grace) return 'gc removes it';
  return `gc removes it once it is older than the gc grace period of ${describeGrace(grace)} (in ${describeGrace(Math.ceil(grace - ageSeconds))}; MODELCTL_GC_GRACE_SECONDS)`;
}
