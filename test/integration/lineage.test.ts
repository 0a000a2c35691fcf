import { describe, expect, it } from 'vitest';
import { runCli, writeFile } from '../helpers/temp-repo.js';
import { commitVersion, lifecycleRepo } from './lifecycle-helpers.js';

interface Graph {
  root: string;
  depth: number | null;
  nodes: { id: string; kind: string; versionId?: string; source?: string; missing?: boolean; ref?: string }[];
  edges: { from: string; to: string; kind: string }[];
}

describe('lineage', () => {
  it('upstream data, parents (recursively) and downstream fine-tunes, as nodes and edges', async () => {
    const repo = lifecycleRepo();
    writeFile(repo, 'data/base.csv', 'a\n1\n');
    writeFile(repo, 'data/ft.csv', 'b\n2\n');
    const base = await commitVersion(repo, 'base', { data: ['data/base.csv'] });
    const ft = await commitVersion(repo, 'fraud', { parent: base.ref, data: ['data/ft.csv', 's3://bucket/extra.parquet'] });
    const ft2 = await commitVersion(repo, 'fraud-eu', { parent: ft.ref });
    const ft3 = await commitVersion(repo, 'fraud-eu', { parent: 'fraud-eu@v1' });
    const sibling = await commitVersion(repo, 'fraud-us', { parent: ft.ref });

    const r = runCli(repo, ['lineage', ft.ref, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const g = r.json() as Graph;
    const v = (id: string) => `version:${id}`;
    expect(g.root).toBe(v(ft.id));
    expect(g.depth).toBeNull();
    const edge = (from: string, to: string, kind: string) => expect(g.edges).toContainEqual({ from, to, kind });
    edge(v(base.id), v(ft.id), 'parent');
    edge(v(ft.id), v(ft2.id), 'parent');
    edge(v(ft2.id), v(ft3.id), 'parent');
    edge(v(ft.id), v(sibling.id), 'parent');
    const data = g.nodes.filter((n) => n.kind === 'data');
    expect(data.map((n) => n.source).sort()).toEqual(['data/base.csv', 'data/ft.csv', 's3://bucket/extra.parquet']);
    const baseData = data.find((n) => n.source === 'data/base.csv')!;
    edge(baseData.id, v(base.id), 'data');
    expect(g.nodes.filter((n) => n.kind === 'version').map((n) => n.ref).sort()).toEqual(['base@v1', 'fraud-eu@v1', 'fraud-eu@v2', 'fraud-us@v1', 'fraud@v1']);
    // Every edge joins known nodes.
    const ids = new Set(g.nodes.map((n) => n.id));
    for (const e of g.edges) expect(ids.has(e.from) && ids.has(e.to)).toBe(true);

    const human = runCli(repo, ['lineage', ft.ref]);
    expect(human.code).toBe(0);
    for (const s of ['upstream', 'downstream', 'base@v1', 'fraud-eu@v2', 'data/ft.csv', 's3://bucket/extra.parquet']) expect(human.stdout).toContain(s);
  });

  it('--depth limits parent and child hops; 0 keeps the version and its own inputs', async () => {
    const repo = lifecycleRepo();
    const a = await commitVersion(repo, 'm');
    const b = await commitVersion(repo, 'm', { parent: 'm@v1' });
    const c = await commitVersion(repo, 'm', { parent: 'm@v2' });
    const d = await commitVersion(repo, 'm', { parent: 'm@v3' });
    const one = runCli(repo, ['lineage', 'm@v2', '--depth', '1', '--json']).json() as Graph;
    expect(one.depth).toBe(1);
    expect(one.nodes.map((n) => n.versionId).filter(Boolean).sort()).toEqual([a.id, b.id, c.id].sort());
    const zero = runCli(repo, ['lineage', 'm@v2', '--depth', '0', '--json']).json() as Graph;
    expect(zero.nodes.map((n) => n.versionId).filter(Boolean)).toEqual([b.id]);
    expect(zero.edges).toEqual([]);
    const all = runCli(repo, ['lineage', 'm@v1', '--json']).json() as Graph;
    expect(all.nodes.map((n) => n.versionId).filter(Boolean).sort()).toEqual([a.id, b.id, c.id, d.id].sort());
    expect(runCli(repo, ['lineage', 'm@v1', '--depth', '-1', '--json']).code).toBe(2);
    expect(runCli(repo, ['lineage', 'm@v1', '--depth', 'two', '--json']).code).toBe(2);
    expect(runCli(repo, ['lineage', 'm@v9', '--json']).code).toBe(3);
  });

  it('records code lineage from git as a code node', async () => {
    const repo = lifecycleRepo();
    const { execFileSync } = await import('node:child_process');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
    writeFile(repo, '.gitignore', '.modelctl/\nmodels/\n');
    git('init', '-q');
    git('config', 'user.email', 'ml@example.com');
    git('config', 'user.name', 'ML');
    writeFile(repo, 'train.py', 'print(1)\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'train');
    const head = git('rev-parse', 'HEAD').toString().trim();
    await commitVersion(repo);
    const g = runCli(repo, ['lineage', 'fraud', '--json']).json() as Graph;
    const code = g.nodes.filter((n) => n.kind === 'code') as unknown as { id: string; commit: string; dirty: boolean }[];
    expect(code).toEqual([expect.objectContaining({ commit: head, dirty: false })]);
    expect(g.edges).toContainEqual({ from: code[0].id, to: g.root, kind: 'code' });
  });
});
