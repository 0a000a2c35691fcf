/**
 * Shared set-up for the lifecycle suites (tags, stages, policies, hooks, history, diff,
 * lineage): a repository with given settings, versions committed through the built CLI,
 * and an asynchronous CLI runner for tests that need parallel processes or a timeout.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { commit } from '../../src/api/commit.js';
import { history } from '../../src/api/history.js';
import { tempRepo, writeFile } from '../helpers/temp-repo.js';

let counter = 0;

/** A fresh repository whose modelctl.json holds `settings` (stages default to staging, production). */
export function lifecycleRepo(settings: Record<string, unknown> = {}): string {
  const repo = tempRepo();
  writeSettings(repo, settings);
  return repo;
}

/** Replaces modelctl.json. */
export function writeSettings(repo: string, settings: Record<string, unknown>): void {
  writeFileSync(join(repo, 'modelctl.json'), JSON.stringify({ stages: ['staging', 'production'], policies: {}, ...settings }, null, 2));
}

export interface Committed {
  id: string;
  number: number;
  ref: string;
}

/**
 * Commits a new version of `model` with unique content, through the api in-process (set-up
 * only: the CLI's commit has its own suite); returns its id, number and ref.
 */
export async function commitVersion(
  repo: string,
  model = 'fraud',
  o: { metrics?: Record<string, number | string>; params?: Record<string, number | string>; parent?: string; data?: string[] } = {},
): Promise<Committed> {
  counter++;
  const dir = `models/${model.replace('/', '_')}`;
  writeFile(repo, `${dir}/weights.bin`, `${model} weights ${counter} ${process.pid} ${Date.now()}`);
  const r = await commit({
    cwd: repo,
    model,
    paths: [dir],
    message: `version ${counter}`,
    metrics: Object.entries(o.metrics ?? {}).map(([k, v]) => `${k}=${v}`),
    params: Object.entries(o.params ?? {}).map(([k, v]) => `${k}=${v}`),
    parent: o.parent,
    data: o.data,
  });
  expect(r.created).toBe(true);
  return { id: r.version.id, number: r.version.number, ref: r.version.ref };
}

/** The version id holding `stage` of `model` according to the last stage move in the audit history, or null. */
export async function stageHolder(repo: string, model: string, stage: string): Promise<string | null> {
  const { events } = await history({ cwd: repo, model, stage });
  return events.length ? events[events.length - 1].to : null;
}

/** The audit events (oldest first), read in-process. */
export async function auditEvents(repo: string, model?: string) {
  return (await history({ cwd: repo, model })).events;
}

/** Installs an executable hook script into the repository. */
export function installHook(repo: string, name: string, script: string): string {
  const p = writeFile(repo, `.modelctl/hooks/${name}`, script);
  chmodSync(p, 0o755);
  return p;
}

// Kept importable from here for the lifecycle suites; the runner lives with the other helpers.
export { runCliAsync, type AsyncRun } from '../helpers/temp-repo.js';
