/** Helpers shared by test/integration/remote-sync.test.ts and its *.full.test.ts sibling. */

import { commitIn, pushIn } from './setup-api.js';

/** `modelctl commit <model> <paths…>` with no -m (an empty message, no reason), arranged through the Node API. */
export const commitNoMessage = (cwd: string, model: string, paths: string[]) => commitIn(cwd, model, paths, '', { message: undefined, argv: ['commit', model, ...paths] });

/** `modelctl push --remote <url>`, arranged through the Node API. */
export const pushTo = (cwd: string, remote: string) => pushIn(cwd, [], { remote, argv: ['push', '--remote', remote] });
