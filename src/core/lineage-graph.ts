/**
 * A version's lineage as a graph: nodes are versions, data inputs and code commits;
 * edges point from an input to the version made from it (upstream → downstream), so
 * `parent` edges run from a parent version to its fine-tune. Pure: the api layer walks
 * the index and manifests and feeds this builder.
 */

export interface VersionNode {
  /** `version:<id>` */
  id: string;
  kind: 'version';
  versionId: string;
  model: string;
  /** null when the version is not in the local index (`missing`). */
  number: number | null;
  ref: string | null;
  createdAt: string | null;
  message: string | null;
  archived: boolean;
  tags: string[];
  stages: string[];
  /** The index does not hold this version (a parent from a model never fetched). */
  missing: boolean;
}

export interface DataNode {
  /** `data:<source>@<digest>` or `data:<uri>` */
  id: string;
  kind: 'data';
  dataKind: 'file' | 'dir' | 'uri';
  source: string;
  digest: string | null;
  size: number | null;
  etag: string | null;
  versionId: string | null;
}

export interface CodeNode {
  /** `code:<commit>` (`+dirty:<diff hash>` when uncommitted changes were present) */
  id: string;
  kind: 'code';
  commit: string;
  branch: string | null;
  dirty: boolean;
  remote: string | null;
}

export type LineageNode = VersionNode | DataNode | CodeNode;

export interface LineageEdge {
  /** The input (data, code or parent version). */
  from: string;
  /** The version made from it. */
  to: string;
  kind: 'parent' | 'data' | 'code';
}

export interface LineageGraph {
  /** The node the graph was drawn around. */
  root: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
}

/** The node id of a version. */
export function versionNodeId(versionId: string): string {
  return `version:${versionId}`;
}

/** The node id of a data input. */
export function dataNodeId(source: string, digest: string | null | undefined): string {
  return digest ? `data:${source}@${digest}` : `data:${source}`;
}

/** The node id of a code state. */
export function codeNodeId(commit: string, dirty: boolean, diffHash: string | null): string {
  return dirty ? `code:${commit}+dirty${diffHash ? `:${diffHash.slice(0, 12)}` : ''}` : `code:${commit}`;
}

/** Collects nodes and edges without duplicates, keeping insertion order. */
export class LineageGraphBuilder {
  private readonly nodes = new Map<string, LineageNode>();
  private readonly edges = new Map<string, LineageEdge>();

  /** Adds a node unless one with its id exists; returns its id. */
  addNode(node: LineageNode): string {
    if (!this.nodes.has(node.id)) this.nodes.set(node.id, node);
    return node.id;
  }

  /** True when a node with this id was added. */
  hasNode(id: string): boolean {
    return this.nodes.has(id);
  }

  /** Adds an edge once. */
  addEdge(edge: LineageEdge): void {
    const key = `${edge.kind}\0${edge.from}\0${edge.to}`;
    if (!this.edges.has(key)) this.edges.set(key, edge);
  }

  /** The graph so far. */
  build(root: string): LineageGraph {
    return { root, nodes: [...this.nodes.values()], edges: [...this.edges.values()] };
  }
}

/** A tree view of part of the graph, for printing. */
export interface LineageTree {
  node: LineageNode;
  /** The edge kind that led here from the parent tree node (null at the root). */
  via: LineageEdge['kind'] | null;
  children: LineageTree[];
  /** The node was already printed elsewhere in this tree; its children are left out. */
  repeated: boolean;
}

/**
 * The upstream tree of `root`: each version's code, data and parent versions, recursively.
 * Children order: code, data, parents. A version reached twice is marked `repeated`.
 */
export function upstreamTree(graph: LineageGraph, root = graph.root): LineageTree {
  const order: Record<LineageEdge['kind'], number> = { code: 0, data: 1, parent: 2 };
  return walk(graph, root, (id) =>
    graph.edges
      .filter((e) => e.to === id)
      .sort((x, y) => order[x.kind] - order[y.kind])
      .map((e) => ({ id: e.from, via: e.kind })),
  );
}

/** The downstream tree of `root`: versions whose parent it is, recursively. */
export function downstreamTree(graph: LineageGraph, root = graph.root): LineageTree {
  return walk(graph, root, (id) => graph.edges.filter((e) => e.from === id && e.kind === 'parent').map((e) => ({ id: e.to, via: e.kind })));
}

function walk(graph: LineageGraph, root: string, next: (id: string) => { id: string; via: LineageEdge['kind'] }[]): LineageTree {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const visit = (id: string, via: LineageEdge['kind'] | null): LineageTree => {
    const node = byId.get(id);
    if (!node) throw new Error(`BUG: lineage edge to unknown node ${id}`);
    // Only versions repeat with a subtree; a shared data or code leaf is simply shown again.
    if (seen.has(id) && node.kind === 'version') return { node, via, children: [], repeated: true };
    seen.add(id);
    return { node, via, children: next(id).map((c) => visit(c.id, c.via)), repeated: false };
  };
  return visit(root, null);
}
