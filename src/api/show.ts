import type { AuditEvent } from '../core/events.js';
import type { Lineage, ManifestFile } from '../core/manifest.js';
import { resolveRef } from '../store/resolve-ref.js';
import { readVersionManifest } from './read-manifest.js';
import { withRepository, type CommonOptions } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { describeVersionSignatures } from './version-signers.js';
import type { SignatureCheck } from '../signing/version-signatures.js';

export interface ShowOptions extends CommonOptions {
  ref: string;
}

export interface ShowResult {
  version: VersionSummary;
  files: ManifestFile[];
  lineage: Lineage;
  /** Events about this version, oldest first. */
  events: AuditEvent[];
  /** Who signed or attested it, each checked against trust.keys and the files (docs/design.md §11). */
  signatures: SignatureCheck[];
}

/** One version in full: files, lineage (params, metrics, data, code, parent, environment), tags, stages, events. */
export async function show(opts: ShowOptions): Promise<ShowResult> {
  return withRepository(opts, (repo) => {
    const v = resolveRef(repo.db, opts.ref);
    const manifest = readVersionManifest(repo, v.id);
    const events = (repo.db.prepare('SELECT payload FROM events WHERE version_id = ? ORDER BY seq').all(v.id) as { payload: string }[]).map(
      (r) => JSON.parse(r.payload) as AuditEvent,
    );
    return { version: summarizeVersion(repo.db, v), files: manifest.files, lineage: manifest.lineage, events, signatures: describeVersionSignatures(repo, v.id, manifest.files) };
  });
}
