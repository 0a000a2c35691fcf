import type { Command } from 'commander';
import type { InitResult } from '../../api/init.js';
import { action } from '../action.js';

interface InitFlags {
  yes?: boolean;
  remote?: string;
  template?: string;
}

/** `modelctl init`: create the repository. */
export function registerInit(program: Command): Command {
  return program
    .command('init')
    .description('create .modelctl/ (store and index) and modelctl.json in the current folder')
    .option('-y, --yes', 'no questions: accept defaults')
    .option('--remote <url>', 'record a default remote (s3://bucket/prefix or a folder)')
    .option('--template <t>', 'settings template to start from')
    .addHelpText('after', '\nExamples:\n  modelctl init --yes\n  modelctl init --yes --remote s3://ml-registry/team')
    .action(
      action<InitFlags>(async (ctx, opts) => {
        const { init } = await import('../../api/init.js');
        const result = init({ cwd: ctx.cwd, remote: opts.remote });
        ctx.out.result(result, (r: InitResult) =>
          [
            r.created ? `Initialized modelctl repository in ${r.metaDir}` : `Reinitialized existing modelctl repository in ${r.metaDir}`,
            r.configCreated ? 'Created modelctl.json (commit it to git)' : null,
            r.gitignoreUpdated ? 'Added .modelctl/ to .gitignore' : null,
          ]
            .filter(Boolean)
            .join('\n'),
        );
      }),
    );
}
