import { describe, expect, it } from 'vitest';
import { LineageGraphBuilder, codeNodeId, dataNodeId, downstreamTree, upstreamTree, versionNodeId, type VersionNode } from '../../src/core/lineage-graph.js';

function version(id: string, n: number): VersionNode {
  return { id: versionNodeId(id), kind: 'version', versionId: id, model: 'm', number: n, ref: `m@v${n}`, createdAt: null, message: null, archived: false, tags: [], stages: [], missing: false };
}

describe('lineage graph', () => {
  it('dedupes nodes and edges and builds upstream and downstream trees', () => {
    const g = new LineageGraphBuilder();
    const a = g.addNode(version('a', 1));
    const b = g.addNode(version('b', 2));
    const c = g.addNode(version('c', 3));
    g.addNode(version('a', 1));
    const data = g.addNode({ id: dataNodeId('train.csv', 'dd'), kind: 'data', dataKind: 'file', source: 'train.csv', digest: 'dd', size: 3, etag: null, versionId: null });
    const code = g.addNode({ id: codeNodeId('c0ffee', false, null), kind: 'code', commit: 'c0ffee', branch: 'main', dirty: false, remote: null });
    g.addEdge({ from: a, to: b, kind: 'parent' });
    g.addEdge({ from: a, to: b, kind: 'parent' });
    g.addEdge({ from: data, to: b, kind: 'data' });
    g.addEdge({ from: data, to: a, kind: 'data' });
    g.addEdge({ from: code, to: b, kind: 'code' });
    g.addEdge({ from: b, to: c, kind: 'parent' });
    const graph = g.build(b);
    expect(graph.nodes).toHaveLength(5);
    expect(graph.edges).toHaveLength(5);

    const up = upstreamTree(graph);
    expect(up.node.id).toBe(b);
    expect(up.children.map((t) => [t.via, t.node.id])).toEqual([
      ['code', code],
      ['data', data],
      ['parent', a],
    ]);
    // A shared data leaf shows again under the parent; it is not a "repeated" version.
    expect(up.children[2].children.map((t) => [t.node.id, t.repeated])).toEqual([[data, false]]);

    const down = downstreamTree(graph);
    expect(down.children.map((t) => t.node.id)).toEqual([c]);
    expect(downstreamTree(graph, a).children[0].children[0].node.id).toBe(c);
  });

  it('node ids separate dirty code states and data without digests', () => {
    expect(codeNodeId('abc', true, 'f'.repeat(64))).toBe(`code:abc+dirty:${'f'.repeat(12)}`);
    expect(dataNodeId('s3://b/k', undefined)).toBe('data:s3://b/k');
  });
});
