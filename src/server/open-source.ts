import { remoteSource } from './remote-source.js';
import { repositorySource, type ServedSource } from './served-source.js';

/** Opens what `serve` was asked to serve: the remote given with --remote, else the repository here. */
export async function openServedSource(opts: {
  cwd: string;
  remote?: string;
  cache?: string;
  pollMs: number;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}): Promise<ServedSource> {
  if (opts.remote === undefined) return repositorySource(opts.cwd, opts.env);
  return remoteSource({ cwd: opts.cwd, remote: opts.remote, cache: opts.cache, pollMs: opts.pollMs, env: opts.env, log: opts.log });
}
