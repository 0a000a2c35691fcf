import { IntegrityError } from '../errors.js';
import { parseManifest, type VersionManifest } from '../core/manifest.js';
import type { Repository } from './repository.js';

/**
 * The stored manifest of a version, checked against its id (the stored bytes are hashed,
 * never re-serialised). Missing or corrupt → IntegrityError (exit 6).
 */
export function readVersionManifest(repo: Repository, id: string): VersionManifest {
  const bytes = repo.store.readManifestBytes(id);
  if (!bytes) {
    throw new IntegrityError('MANIFEST_MISSING', `the manifest of version ${id.slice(0, 12)} is missing from the store`, {
      hint: 'run `modelctl verify`; pull the version again from a remote if you have one',
    });
  }
  return parseManifest(bytes, id);
}
