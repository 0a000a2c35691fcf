import { resolve } from 'node:path';
import { buildMlBom } from '../core/ml-bom.js';
import { rootDigest } from '../signing/oms-statement.js';
import { compareResourceNames } from '../signing/oms-statement.js';
import { wholeFileSha256Async } from '../store/whole-file-sha256.js';
import { MODELCTL_VERSION } from '../version.js';
import { writeFileAtomic } from '../workspace/atomic-file.js';
import { readVersionManifest } from './read-manifest.js';
import { withRepository, type CommonOptions } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

export interface BomOptions extends CommonOptions {
  ref: string;
  /** Write the BOM here (atomically). */
  output?: string;
}

/** The ML-BOM of a version. The --json shape of `bom`. */
export interface BomResult {
  version: VersionSummary;
  /** Where it was written, or null. */
  output: string | null;
  /** The CycloneDX 1.6 JSON document. */
  bom: Record<string, unknown>;
  warnings: string[];
}

/**
 * A CycloneDX 1.6 ML-BOM of a version (docs/design.md §11): model, files with their sha256,
 * model card, data inputs, code commit, parent, tool. Files whose bytes are not local (a
 * fetched version) are listed without a sha256, with a warning.
 */
export async function bom(opts: BomOptions): Promise<BomResult> {
  return withRepository(opts, async (repo) => {
    const v = resolveIn(repo, opts.ref);
    const manifest = readVersionManifest(repo, v.id);
    const sha256 = await wholeFileSha256Async(repo.db, repo.store, manifest.files, { allowMissing: true });
    const complete = manifest.files.every((f) => sha256.has(f.digest));
    const warnings = complete ? [] : [`the bytes of some files of ${v.model}@v${v.number} are not local, so they are listed without a sha256 (pull the version first)`];
    const sorted = [...manifest.files].sort((a, b) => compareResourceNames(a.path, b.path));
    const summary = summarizeVersion(repo.db, v);
    const doc = await buildMlBom({
      model: v.model,
      versionId: v.id,
      number: v.number,
      created: manifest.created,
      author: manifest.author,
      message: manifest.message,
      files: manifest.files,
      sha256,
      rootDigest: complete ? rootDigest(sorted.map((f) => sha256.get(f.digest) as string)) : null,
      lineage: manifest.lineage,
      tags: summary.tags,
      stages: summary.stages,
      modelctlVersion: MODELCTL_VERSION,
    });
    let output: string | null = null;
    if (opts.output) {
      output = resolve(repo.cwd, opts.output);
      writeFileAtomic(output, `${JSON.stringify(doc, null, 2)}\n`);
    }
    return { version: summary, output, bom: doc, warnings };
  });
}
