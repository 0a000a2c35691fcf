import { statSync } from 'node:fs';
import { describeGrace, gcGraceSeconds } from '../store/gc-grace.js';
import { IntegrityError } from '../errors.js';
import { parseManifest } from '../core/manifest.js';
import { hashFileSync } from '../store/hash-file.js';
import { resolveRef } from '../store/resolve-ref.js';
import { hasObjectRow, versionFiles } from '../store/version-records.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';

export interface VerifyOptions extends CommonOptions {
  /** Only this version's manifest and objects; default: the whole store. */
  ref?: string;
}

export type VerifyProblemKind = 'missing-object' | 'corrupt-object' | 'missing-manifest' | 'corrupt-manifest' | 'unindexed-object';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** Object digest or version id. */
  id: string;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  objectsChecked: number;
  bytesChecked: number;
  manifestsChecked: number;
  versionsChecked: number;
  problems: VerifyProblem[];
  tempFilesRemoved: number;
}

/**
 * Re-hashes every object (or one version's) and re-reads every manifest against its id,
 * and checks every version's files are present. Reports each problem; never repairs.
 * The caller decides the exit (the CLI exits 6 when `ok` is false).
 */
export async function verify(opts: VerifyOptions = {}): Promise<VerifyResult> {
  return withRepository(opts, (repo) => {
    const problems: VerifyProblem[] = [];
    let objectsChecked = 0;
    let bytesChecked = 0;
    let manifestsChecked = 0;
    const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
    const checkObject = (digest: string) => {
      if (!repo.store.hasObject(digest)) {
        problems.push({ kind: 'missing-object', id: digest, detail: 'object is not in the store' });
        return;
      }
      const h = hashFileSync(repo.store.objectPath(digest), undefined, buffer);
      objectsChecked++;
      bytesChecked += h.size;
      if (h.digest !== digest) problems.push({ kind: 'corrupt-object', id: digest, detail: `bytes hash to ${h.digest}` });
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
        problems.push({ kind: 'corrupt-manifest', id, detail: err instanceof Error ? err.message : String(err) });
      }
    };

    let versionIds: string[];
    if (opts.ref) {
      const v = resolveRef(repo.db, opts.ref);
      versionIds = [v.id];
      checkManifest(v.id);
      for (const f of versionFiles(repo.db, v.id)) checkObject(f.digest);
    } else {
      versionIds = (repo.db.prepare('SELECT id FROM versions ORDER BY id').all() as { id: string }[]).map((r) => r.id);
      for (const id of versionIds) checkManifest(id);
      const onDisk = new Set<string>();
      for (const digest of repo.store.listObjects()) {
        onDisk.add(digest);
        checkObject(digest);
        if (!hasObjectRow(repo.db, digest)) problems.push({ kind: 'unindexed-object', id: digest, detail: `present on disk but not in the index (left by an interrupted command, or a commit still running); ${whenGcRemoves(repo, digest)}` });
      }
      const needed = repo.db.prepare('SELECT DISTINCT f.digest FROM files f').all() as { digest: string }[];
      for (const { digest } of needed) {
        // Versions known only as metadata (fetched, or thinned by gc --keep-last) have no object row.
        if (!onDisk.has(digest) && hasObjectRow(repo.db, digest)) problems.push({ kind: 'missing-object', id: digest, detail: 'a version needs it but it is not in the store' });
      }
    }
    const tempFilesRemoved = repo.store.sweepTemp();
    // Orphans from a crash are harmless (never referenced): report them but stay ok.
    const ok = problems.every((p) => p.kind === 'unindexed-object');
    return { ok, objectsChecked, bytesChecked, manifestsChecked, versionsChecked: versionIds.length, problems, tempFilesRemoved };
  });
}

/** Throws IntegrityError (exit 6) naming the problems when a verify result is not ok. */
export function assertVerified(result: VerifyResult): void {
  if (result.ok) return;
  const bad = result.problems.filter((p) => p.kind !== 'unindexed-object');
  throw new IntegrityError('VERIFY_FAILED', `${bad.length} problem${bad.length === 1 ? '' : 's'} found: ${bad.slice(0, 5).map((p) => `${p.kind} ${p.id.slice(0, 12)}`).join(', ')}${bad.length > 5 ? ', …' : ''}`, {
    hint: 'pull the affected versions again from a remote, or restore the store from a backup',
    data: { problems: bad },
  });
}

/** When gc will remove an unindexed object: it keeps objects younger than the grace period. */
function whenGcRemoves(repo: Repository, digest: string): string {
  const grace = gcGraceSeconds(repo.env);
  const ageSeconds = (Date.now() - statSync(repo.store.objectPath(digest)).mtimeMs) / 1000;
  if (ageSeconds >= grace) return 'gc removes it';
  return `gc removes it once it is older than the ${describeGrace(grace)} grace period (in ${describeGrace(Math.ceil(grace - ageSeconds))}; MODELCTL_GC_GRACE_SECONDS)`;
}
