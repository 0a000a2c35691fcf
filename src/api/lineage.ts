import { UsageError } from '../errors.js';
import {
  LineageGraphBuilder,
  codeNodeId,
  dataNodeId,
  versionNodeId,
  type LineageGraph,
  type VersionNode,
} from '../core/lineage-graph.js';
import type { CodeLineage, DataInput } from '../core/manifest.js';
import { childVersionIds, versionDataInputs } from '../store/lineage-queries.js';
import { getVersion } from '../store/version-records.js';
import { readStoredManifest } from './read-manifest.js';
import { withRepository, type CommonOptions, type Repository } from './repository.js';
import { summarizeVersion } from './views.js';
import { resolveIn } from '../workspace/resolve-in.js';

export interface LineageOptions extends CommonOptions {
  ref: string;
  /** How many parent hops upstream and child hops downstream to follow; default: all. */
  depth?: number;
}

/** The lineage graph around a version (`{root, nodes, edges}`), plus the depth used. The --json shape. */
export interface LineageResult extends LineageGraph {
  /** null: unlimited. */
  depth: number | null;
}

/**
 * The lineage of a version: upstream (its code commit, data inputs and parent versions,
 * recursively, each with their own code and data) and downstream (versions of any model
 * whose parent it is, recursively), to `depth` hops. Details come from the stored
 * manifests (verified against their ids); a version the index lacks is a `missing` node.
 */
export async function lineage(opts: LineageOptions): Promise<LineageResult> {
  const depth = opts.depth ?? Infinity;
  if (!(depth === Infinity || (Number.isSafeInteger(depth) && depth >= 0))) {
    throw new UsageError('INVALID_DEPTH', `--depth must be a whole number ≥ 0, got ${String(opts.depth)}`);
  }
  return withRepository(opts, (repo) => {
    const root = resolveIn(repo, opts.ref);
    const graph = new LineageGraphBuilder();
    const rootId = addVersion(repo, graph, root.id, root.model);

    // Upstream: code, data and parents; a version's inputs are added once.
    const expanded = new Set<string>();
    const up = (versionId: string, hops: number): void => {
      if (expanded.has(versionId)) return;
      expanded.add(versionId);
      const nodeId = versionNodeId(versionId);
      const inputs = readInputs(repo, versionId);
      if (!inputs) return;
      if (inputs.code) {
        const c = inputs.code;
        const id = graph.addNode({ id: codeNodeId(c.commit, c.dirty, c.diffHash), kind: 'code', commit: c.commit, branch: c.branch, dirty: c.dirty, remote: c.remote });
        graph.addEdge({ from: id, to: nodeId, kind: 'code' });
      }
      for (const d of inputs.data) {
        const id = graph.addNode({
          id: dataNodeId(d.source, d.digest),
          kind: 'data',
          dataKind: d.kind,
          source: d.source,
          digest: d.digest ?? null,
          size: d.size ?? null,
          etag: d.etag ?? null,
          versionId: d.versionId ?? null,
        });
        graph.addEdge({ from: id, to: nodeId, kind: 'data' });
      }
      if (inputs.parent && hops < depth) {
        const parentNode = addVersion(repo, graph, inputs.parent.version, inputs.parent.model);
        graph.addEdge({ from: parentNode, to: nodeId, kind: 'parent' });
        up(inputs.parent.version, hops + 1);
      }
    };
    up(root.id, 0);

    // Downstream: children by parent_id, breadth first so --depth counts hops exactly.
    let frontier = [root.id];
    const visited = new Set(frontier);
    for (let hops = 0; hops < depth && frontier.length > 0; hops++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const child of childVersionIds(repo.db, id)) {
          const childNode = addVersion(repo, graph, child, null);
          graph.addEdge({ from: versionNodeId(id), to: childNode, kind: 'parent' });
          if (!visited.has(child)) {
            visited.add(child);
            next.push(child);
          }
        }
      }
      frontier = next;
    }
    return { ...graph.build(rootId), depth: depth === Infinity ? null : depth };
  });
}

function addVersion(repo: Repository, graph: LineageGraphBuilder, versionId: string, model: string | null): string {
  const id = versionNodeId(versionId);
  if (graph.hasNode(id)) return id;
  const row = getVersion(repo.db, versionId);
  let node: VersionNode;
  if (row) {
    const s = summarizeVersion(repo.db, row);
    node = {
      id,
      kind: 'version',
      versionId,
      model: s.model,
      number: s.number,
      ref: s.ref,
      createdAt: s.createdAt,
      message: s.message,
      archived: s.archived,
      tags: s.tags,
      stages: s.stages,
      missing: false,
    };
  } else {
    node = { id, kind: 'version', versionId, model: model ?? '', number: null, ref: null, createdAt: null, message: null, archived: false, tags: [], stages: [], missing: true };
  }
  return graph.addNode(node);
}

interface VersionInputs {
  code: CodeLineage | null;
  data: DataInput[];
  parent: { model: string; version: string } | null;
}

/**
 * A version's inputs from its stored manifest (which alone has branch, remote and ETags),
 * else from the index rows (a version fetched without its manifest); null when neither.
 */
function readInputs(repo: Repository, versionId: string): VersionInputs | null {
  // Checked against its id and canonical form; the schema ran when it entered the store (docs/design.md §5).
  const m = readStoredManifest(repo, versionId);
  if (m) {
    return { code: m.lineage.code, data: m.lineage.data, parent: m.lineage.parent };
  }
  const row = getVersion(repo.db, versionId);
  if (!row) return null;
  const parentRow = row.parentId ? getVersion(repo.db, row.parentId) : null;
  return {
    code: row.gitCommit ? { commit: row.gitCommit, branch: null, dirty: !!row.gitDirty, diffHash: null, remote: null, root: '' } : null,
    data: versionDataInputs(repo.db, versionId).map((d) => ({ kind: d.kind, source: d.source, ...(d.digest ? { digest: d.digest } : {}), ...(d.size !== null ? { size: d.size } : {}) })),
    parent: row.parentId ? { model: parentRow?.model ?? '', version: row.parentId } : null,
  };
}
