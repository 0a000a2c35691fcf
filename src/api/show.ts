import { parseRef } from '../core/refs.js';
import { withReadRepository, type ReadTarget } from './remote-read.js';
import { describeVersion, type ShowResult, type VersionDetailOptions } from './version-details.js';

export type { ShowResult } from './version-details.js';

export interface ShowOptions extends ReadTarget, VersionDetailOptions {
  ref: string;
}

/**
 * One version in full: files, lineage (params, metrics, data, code, parent, environment), tags,
 * stages, events, and its model files' parameter summary; with `tensors`, their tensor tables.
 * With `remote`: the version as that remote holds it (read-only, no repository needed; the
 * tensor tables need the files' bytes, so not there).
 */
export async function show(opts: ShowOptions): Promise<ShowResult> {
  return withReadRepository(opts, opts.remote ? parseRef(opts.ref).model : undefined, (repo) => describeVersion(repo, opts.ref, opts));
}
