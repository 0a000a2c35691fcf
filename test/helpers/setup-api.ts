/**
 * A test's set-up steps through the typed Node API (`import { commit } from 'modelctl'`),
 * in the test's own process. A CLI run costs ~300 ms of CPU on this 2-core VM (a third of
 * it starting Node), and the quick suite was bound by the number of runs (README, Start
 * here); the same step in process costs a few milliseconds. Use these only for what a
 * test arranges, never for what it checks: the command under test still runs as a user
 * runs it, through `runCli` and the built CLI.
 */
// Each from its own module, not src/index.js: vitest compiles what a test imports, and the
// whole API cost ~1.4 s of CPU per test file, more than a few CLI runs.
import { commit, type CommitOptions } from '../../src/api/commit.js';
import { fetch } from '../../src/api/fetch.js';
import { promote } from '../../src/api/promote.js';
import { push, type PushOptions } from '../../src/api/push.js';
import { remoteAdd } from '../../src/api/remote-manage.js';
import { pull } from '../../src/api/pull.js';
import { deleteTag, tag } from '../../src/api/tag.js';
import { join } from 'node:path';
import { cliEnv } from './cli-env.js';
import { tempDir, tempRepo } from './temp-repo.js';

/** What every CLI run of the tests also gets (temp-repo.ts runCli): pass it as `env` to any API call. */
export const apiEnv = (): NodeJS.ProcessEnv => cliEnv({ CI: '1', NO_COLOR: '1' });
const env = apiEnv;

/**
 * Commits `paths` as a new version of `model`; returns the version's id. The command line
 * recorded is the one the CLI would record for the same options.
 */
export async function commitIn(cwd: string, model: string, paths: string[], message: string, more: Partial<CommitOptions> = {}): Promise<string> {
  const flags = (name: string, values: string[] | undefined) => (values ?? []).flatMap((v) => [name, v]);
  const argv = ['commit', model, ...paths, ...flags('--param', more.params), ...flags('--metric', more.metrics), ...flags('--data', more.data), '-m', message, ...flags('--tag', more.tag ? [more.tag] : [])];
  const r = await commit({ cwd, env: env(), model, paths, message, argv, ...more });
  return r.version.id;
}

/** As temp-repo.ts tempRepoWithFolderRemote: a fresh repository whose default remote `origin` is a new folder remote. */
export async function repoWithFolderRemote(): Promise<{ repo: string; registry: string }> {
  const repo = tempRepo();
  const registry = join(tempDir(), 'registry');
  await remoteAddIn(repo, 'origin', registry, { default: true });
  return { repo, registry };
}

/** `modelctl remote add <name> <url> [--default]`. */
export async function remoteAddIn(cwd: string, name: string, url: string, opts: { default?: boolean } = {}): Promise<void> {
  await remoteAdd({ cwd, env: env(), name, url, default: opts.default });
}

/** `modelctl push [refs…]` to the default remote (or `remote`). */
export async function pushIn(cwd: string, refs: string[] = [], opts: Omit<PushOptions, 'cwd' | 'env' | 'refs'> = {}): Promise<void> {
  await push({ cwd, env: env(), refs, argv: ['push', ...refs], ...opts });
}

/** `modelctl fetch` from the default remote (or `remote`). */
export async function fetchIn(cwd: string, opts: { remote?: string; model?: string } = {}): Promise<void> {
  await fetch({ cwd, env: env(), argv: ['fetch'], ...opts });
}

/** `modelctl promote <ref> --to <stage> --yes [--push]`. */
export async function promoteIn(cwd: string, ref: string, to: string, opts: { push?: boolean; reason?: string } = {}): Promise<void> {
  await promote({ cwd, env: env(), ref, to, reason: opts.reason, push: opts.push, argv: ['promote', ref, '--to', to, '--yes'] });
}

/** `modelctl tag <ref> <name> [--force] [--push]`. */
export async function tagIn(cwd: string, ref: string, name: string, opts: { push?: boolean; force?: boolean } = {}): Promise<void> {
  const argv = ['tag', ref, name, ...(opts.force ? ['--force'] : []), ...(opts.push ? ['--push'] : [])];
  await tag({ cwd, env: env(), ref, name, push: opts.push, force: opts.force, argv });
}

/** `modelctl tag -d <model>@<tag>` (here only). */
export async function deleteTagIn(cwd: string, ref: string): Promise<void> {
  await deleteTag({ cwd, env: env(), ref, argv: ['tag', '-d', ref] });
}

/** `modelctl pull <ref>` from the default remote into the work tree. */
export async function pullIn(cwd: string, ref: string): Promise<void> {
  await pull({ cwd, env: env(), ref });
}
