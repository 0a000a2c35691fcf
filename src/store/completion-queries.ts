import type { Database } from './index-db.js';

/** Every model name in the index, sorted (what shell completion offers for a model). */
export function completionModels(db: Database): string[] {
  return (db.prepare('SELECT name FROM models ORDER BY name').all() as { name: string }[]).map((r) => r.name);
}

/** What completion offers after `<model>@`: its stages, its tags, then its newest 50 numbers as `v<N>`. */
export function completionSelectors(db: Database, model: string): string[] {
  const stages = db.prepare('SELECT s.stage AS n FROM stages s JOIN models m ON m.id = s.model_id WHERE m.name = ? ORDER BY s.stage').all(model) as { n: string }[];
  const tags = db.prepare('SELECT t.name AS n FROM tags t JOIN models m ON m.id = t.model_id WHERE m.name = ? ORDER BY t.name').all(model) as { n: string }[];
  const numbers = db.prepare('SELECT v.number AS n FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.number DESC LIMIT 50').all(model) as { n: number }[];
  return [...stages.map((r) => r.n), ...tags.map((r) => r.n), ...numbers.map((r) => `v${r.n}`)];
}
