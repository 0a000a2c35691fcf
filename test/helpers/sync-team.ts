/** Helpers shared by test/integration/sync-team.test.ts and its *.full.test.ts sibling. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitIn, fetchIn, pushIn, remoteAddIn } from './setup-api.js';
import { pseudoRandomBytes, runCliAsync, tempDir, tempRepo, writeFile } from './temp-repo.js';

/** The CLI run without blocking the worker (a test of many synchronous runs starves vitest's RPC). */
export function runCli(cwd: string, args: string[]) {
  return runCliAsync(cwd, args, { timeoutMs: 120_000 });
}

export interface Team {
  remote: string;
  a: string;
  b: string;
  ids: string[];
}

/** Clone a commits v1..v3 and pushes them; clone b fetches. Both know the same remote state. */
export async function team(): Promise<Team> {
  const remote = join(tempDir(), 'registry');
  const a = tempRepo();
  const ids: string[] = [];
  // Arranged through the Node API (setup-api.ts); what each test checks runs through the CLI.
  for (let i = 1; i <= 3; i++) {
    writeFile(a, 'm/w.bin', pseudoRandomBytes(50_000, i));
    ids.push(await commitIn(a, 'fraud', ['m'], `v${i}`));
  }
  await remoteAddIn(a, 'origin', remote, { default: true });
  await pushIn(a);
  const b = tempRepo();
  await remoteAddIn(b, 'origin', remote, { default: true });
  await fetchIn(b);
  return { remote, a, b, ids };
}

export const stageDoc = (remote: string, stage: string) => {
  const p = join(remote, 'models/fraud/stages', `${stage}.json`);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version: string; previous: string | null; event: string | null; actor: string }) : null;
};

export const historyIds = async (repo: string) => ((await runCli(repo, ['history', '--json'])).json() as { id: string }[]).map((e) => e.id);

export const holder = async (repo: string, stage: string) => {
  const r = await runCli(repo, ['show', `fraud@${stage}`, '--json']);
  return r.code === 0 ? (r.json().version.id as string) : null;
};
