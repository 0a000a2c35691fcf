import type { ManifestFile } from '../core/manifest.js';
import { readVersionManifest } from './read-manifest.js';
import type { Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

/** A version and its files, as its stored manifest lists them. */
export interface VersionFiles {
  version: VersionSummary;
  files: ManifestFile[];
  /** The version's creation time (the mtime a tar of it carries). */
  created: string;
}

/**
 * Resolves `ref` on an open repository and reads its files from the stored manifest
 * (verified against the id). Unknown ref → NotFoundError (3); missing or corrupt manifest →
 * IntegrityError (6).
 */
export function versionFilesOf(repo: Repository, ref: string): VersionFiles {
  const row = resolveIn(repo, ref);
  const manifest = readVersionManifest(repo, row.id);
  return { version: summarizeVersion(repo.db, row), files: manifest.files, created: manifest.created };
}
