import { commitIn, promoteIn, pushIn, repoWithFolderRemote } from '../helpers/setup-api.js';
import { writeFile } from '../helpers/temp-repo.js';

/**
 * The team side of most watch tests: a repository that committed fraud@v1 (`model/w.bin`,
 * "one\n") and pushed it to a new folder remote; with `promote`, v1 also holds production there.
 * Arranged through the Node API (setup-api.ts); the watch command each test checks runs
 * through the built CLI.
 */
export async function pushedTeam(opts: { promote?: boolean } = {}): Promise<{ team: string; registry: string }> {
  const { repo: team, registry } = await repoWithFolderRemote();
  writeFile(team, 'model/w.bin', 'one\n');
  await commitIn(team, 'fraud', ['model/'], 'one');
  await pushIn(team);
  if (opts.promote) await promoteIn(team, 'fraud@v1', 'production', { push: true });
  return { team, registry };
}
