import { expect } from 'vitest';
import { runCli, tempRepoWithFolderRemote, writeFile } from '../helpers/temp-repo.js';

/**
 * The team side of most watch tests: a repository that committed fraud@v1 (`model/w.bin`,
 * "one\n") and pushed it to a new folder remote; with `promote`, v1 also holds production there.
 */
export function pushedTeam(opts: { promote?: boolean } = {}): { team: string; registry: string } {
  const { repo: team, registry } = tempRepoWithFolderRemote();
  writeFile(team, 'model/w.bin', 'one\n');
  expect(runCli(team, ['commit', 'fraud', 'model/', '-m', 'one']).code).toBe(0);
  expect(runCli(team, ['push']).code).toBe(0);
  if (opts.promote) expect(runCli(team, ['promote', 'fraud@v1', '--to', 'production', '--push', '--yes']).code).toBe(0);
  return { team, registry };
}
