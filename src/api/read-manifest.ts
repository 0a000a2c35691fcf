import { IntegrityError } from '../errors.js';
import { canonicalJsonBytes } from '../core/canonical-json.js';
import { manifestId } from '../core/manifest-id.js';
import type { VersionManifest } from '../core/manifest.js';
import { parseUntrustedJson } from '../core/untrusted-json.js';
import type { Repository } from './repository.js';

/**
 * The stored manifest of a version, checked against its id (the stored bytes are hashed,
 * never re-serialised) and for canonical form. Missing or corrupt → IntegrityError (exit 6).
 *
 * The schema is not checked again here (docs/design.md §5): a manifest enters the local
 * store only after it passed it (commit validates what it builds; fetch, pull, import and
 * `verify --rebuild-index` validate what they read), and bytes that hash to their id are
 * those bytes. `verify` runs the full check over every stored manifest.
 */
export function readVersionManifest(repo: Repository, id: string): VersionManifest {
  const manifest = readStoredManifest(repo, id);
  if (!manifest) {
    throw new IntegrityError('MANIFEST_MISSING', `the manifest of version ${id.slice(0, 12)} is missing from the store`, {
      hint: 'run `modelctl verify`; pull the version again from a remote if you have one',
    });
  }
  return manifest;
}

/** readVersionManifest, but null when the store has no manifest of that id (a version fetched without it). */
export function readStoredManifest(repo: Repository, id: string): VersionManifest | null {
  const bytes = repo.store.readManifestBytes(id);
  if (!bytes) return null;
  if (manifestId(bytes) !== id) {
    throw new IntegrityError('MANIFEST_ID_MISMATCH', `manifest bytes do not hash to their id ${id.slice(0, 12)}`, {
      hint: 'the manifest was corrupted or tampered with; run `modelctl verify`',
    });
  }
  const value = parseUntrustedJson(bytes, 'manifest');
  if (!canonicalJsonBytes(value).equals(bytes)) throw new IntegrityError('NON_CANONICAL_MANIFEST', 'manifest is not in canonical form');
  return value as VersionManifest;
}
