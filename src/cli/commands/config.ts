import type { Command } from 'commander';
import type { ConfigEntry } from '../../api/config.js';
import { action } from '../action.js';
import { formatValue, table } from '../format.js';

/** `modelctl config get|set|unset|ls`. */
export function registerConfig(program: Command): Command {
  const config = program
    .command('config')
    .description('read and change settings (env > .modelctl/config.json > modelctl.json > defaults)')
    .addHelpText('after', '\nExamples:\n  modelctl config ls\n  modelctl config get stages\n  modelctl config set default_remote origin\n  modelctl config set --shared policies.production.require_reason true');
  config
    .command('ls')
    .description('list every setting and where it comes from')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  modelctl config ls\n  modelctl config ls --json')
    .action(
      action<object>(async (ctx) => {
        const { configList } = await import('../../api/config.js');
        const result = await configList({ cwd: ctx.cwd });
        ctx.out.result(result, (r) => table(r.entries.map((e) => [e.key, formatValue(e.value), ctx.out.color.dim(e.source)])));
      }),
    );
  config
    .command('get')
    .description("print one setting's value")
    .argument('<key>', 'dotted key, e.g. remotes.origin.url')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  modelctl config get stages\n  modelctl config get remotes.origin.url\n  modelctl config get checkout.link --json')
    .action(
      action<object>(async (ctx, _opts, key: string) => {
        const { configGet } = await import('../../api/config.js');
        const result = await configGet({ cwd: ctx.cwd, key });
        ctx.out.result(result, (r: ConfigEntry) => formatValue(r.value));
      }),
    );
  config
    .command('set')
    .description('set a setting (local by default; --shared writes modelctl.json)')
    .argument('<key>', 'dotted key')
    .argument('[value]', 'value (JSON when it parses as JSON, else a string)')
    .option('--shared', 'write modelctl.json (committed) instead of .modelctl/config.json')
    .option('--unset', 'remove the setting')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  modelctl config set checkout.link hardlink             # this clone only (.modelctl/config.json)\n  modelctl config set --shared stages \'["staging","production"]\'\n  modelctl config set --shared policies.production.require_reason true\n  modelctl config set --unset checkout.link',
    )
    .action(
      action<{ shared?: boolean; unset?: boolean }>(async (ctx, opts, key: string, value?: string) => {
        const { configSet } = await import('../../api/config.js');
        if (value === undefined && !opts.unset) {
          const { UsageError } = await import('../../errors.js');
          throw new UsageError('MISSING_VALUE', `config set ${key} needs a value (or --unset)`);
        }
        const result = await configSet({ cwd: ctx.cwd, key, value: value ?? '', shared: opts.shared, unset: opts.unset });
        ctx.out.result(result, (r: ConfigEntry) => (opts.unset ? `Unset ${r.key} (${r.source})` : `Set ${r.key} = ${formatValue(r.value)} (${r.source})`));
      }),
    );
  // `config unset` is what git (`git config --unset`) and npm (`npm config delete`) users try
  // first; it is `set --unset` under the name they reach for.
  config
    .command('unset')
    .description('remove a setting (local by default; --shared edits modelctl.json)')
    .argument('<key>', 'dotted key')
    .option('--shared', 'edit modelctl.json (committed) instead of .modelctl/config.json')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  modelctl config unset checkout.link\n  modelctl config unset --shared policies.production.require_reason')
    .action(
      action<{ shared?: boolean }>(async (ctx, opts, key: string) => {
        const { configSet } = await import('../../api/config.js');
        const result = await configSet({ cwd: ctx.cwd, key, value: '', shared: opts.shared, unset: true });
        ctx.out.result(result, (r: ConfigEntry) => `Unset ${r.key} (${r.source})`);
      }),
    );
  return config;
}
