import { join } from 'node:path';
import type { Database } from '../../store/index-db.js';
import type { CompletionData } from './candidates.js';

/**
 * Completion names read from the repository containing `cwd`: the index opened read-only
 * (no migration, no write lock) and the settings. Every failure (no repository, a locked or
 * damaged index) yields no names rather than an error: a Tab press must never print one.
 */
export async function repositoryCompletionData(cwd: string, helpTopics: string[]): Promise<CompletionData & { close(): void }> {
  let db: Database | null = null;
  let settings: { stages: string[]; remotes: Record<string, unknown>; models: Record<string, unknown> } | null = null;
  try {
    const { findRepo } = await import('../../workspace/repo-paths.js');
    const { loadSettings } = await import('../../workspace/config.js');
    const { openIndex } = await import('../../store/index-db.js');
    const repo = findRepo(cwd);
    try {
      settings = await loadSettings(repo.root, repo.metaDir);
    } catch {
      settings = null;
    }
    db = openIndex(join(repo.metaDir, 'index.db'), { readonly: true });
  } catch {
    /* outside a repository: static completions only */
  }
  const { listPresets } = await import('../../workspace/templates.js');
  const rows = <T>(sql: string, ...params: unknown[]): T[] => {
    if (!db) return [];
    try {
      return db.prepare(sql).all(...params) as T[];
    } catch {
      return [];
    }
  };
  return {
    models: () => {
      const names = new Set(rows<{ name: string }>('SELECT name FROM models ORDER BY name').map((r) => r.name));
      for (const m of Object.keys(settings?.models ?? {})) names.add(m);
      return [...names].sort();
    },
    selectors: (model) => [
      'latest',
      ...rows<{ n: string }>('SELECT s.stage AS n FROM stages s JOIN models m ON m.id = s.model_id WHERE m.name = ? ORDER BY s.stage', model).map((r) => r.n),
      ...rows<{ n: string }>('SELECT t.name AS n FROM tags t JOIN models m ON m.id = t.model_id WHERE m.name = ? ORDER BY t.name', model).map((r) => r.n),
      ...rows<{ n: number }>('SELECT v.number AS n FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.number DESC LIMIT 50', model).map((r) => `v${r.n}`),
    ],
    stages: () => settings?.stages ?? ['staging', 'production'],
    remotes: () => Object.keys(settings?.remotes ?? {}).sort(),
    templates: () => {
      try {
        return listPresets().map((p) => p.name);
      } catch {
        return [];
      }
    },
    helpTopics: () => helpTopics,
    close: () => {
      try {
        db?.close();
      } catch {
        /* nothing to do */
      }
    },
  };
}
