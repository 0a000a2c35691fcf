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
  const queries = await import('../../store/completion-queries.js');
  // A locked or damaged index gives no names, never an error.
  const names = (read: (db: Database) => string[]): string[] => {
    if (!db) return [];
    try {
      return read(db);
    } catch {
      return [];
    }
  };
  return {
    models: () => {
      const models = new Set(names(queries.completionModels));
      for (const m of Object.keys(settings?.models ?? {})) models.add(m);
      return [...models].sort();
    },
    selectors: (model) => ['latest', ...names((db) => queries.completionSelectors(db, model))],
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
