import { IntegrityError } from '../errors.js';
import { parseManifest } from '../core/manifest.js';
import { keys } from '../core/remote-layout.js';
import type { VersionRow } from '../store/version-records.js';
import type { Repository } from '../workspace/repository.js';
import type { StoreSession } from './remote-session.js';

/**
 * Before a pull plans its checkout: a version the index has whose manifest the store lacks
 * (`verify` moved a corrupt one to quarantine/, or the file was lost) gets it back from the
 * remote, checked against the version id and its schema as fetch checks what it brings
 * (README, "When verify finds a problem"). A stored manifest whose bytes do not hash to the
 * id is moved aside first. A fetch never brings it again, as it skips versions it knows.
 * Returns whether a manifest was restored; when the remote has none either, the checkout
 * that follows reports the missing manifest (exit 6).
 */
export async function restoreManifest(repo: Repository, session: StoreSession, v: VersionRow): Promise<boolean> {
  const stored = repo.store.readManifestBytes(v.id);
  if (stored) {
    try {
      parseManifest(stored, v.id);
      return false;
    } catch (err) {
      if (!(err instanceof IntegrityError) || err.code !== 'MANIFEST_ID_MISMATCH') return false; // the remote's copy is these bytes
      repo.store.quarantineManifest(v.id);
    }
  }
  const key = keys.version(v.id);
  const got = await session.remote.get(key);
  if (!got) return false;
  const manifest = parseManifest(got.body, v.id);
  if (manifest.model !== v.model) throw new IntegrityError('REMOTE_MODEL_MISMATCH', `${key} on ${session.displayUrl} belongs to model '${manifest.model}', not '${v.model}'`);
  repo.store.writeManifest(v.id, got.body);
  return true;
}
