import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { DeleteTagResult, TagResult } from '../../api/tag.js';
import { action } from '../action.js';
import { remoteTargetOf, withEndpointOptions } from '../remote-options.js';

interface TagFlags {
  message?: string;
  force?: boolean;
  delete?: boolean;
  push?: boolean;
  remote?: string;
  endpoint?: string;
  region?: string;
}

/** `modelctl tag <ref> <name>` and `modelctl tag -d <model>@<name>`. */
export function registerTag(program: Command): Command {
  return withEndpointOptions(
    program
      .command('tag')
      .description('name a version (tags are immutable unless --force), or delete a tag with -d')
      .argument('<ref>', 'the version to tag, or <model>@<tag> with -d')
      .argument('[name]', 'the tag: [A-Za-z0-9][A-Za-z0-9._+-]*, not v<N>, a stage or "latest"')
      .option('-m, --message <msg>', 'a note kept with the tag')
      .option('-f, --force', 'move the tag if it names another version')
      .option('-d, --delete', 'delete the tag <model>@<tag>')
      .option('--push', 'create the tag on the remote at once (create-only; compare-and-swap with --force); exit 4 if it exists there. With -d: delete it there too, if it is as last fetched')
      .option('-r, --remote <name|url>', 'remote for --push (default: the default remote)'),
  )
    .addHelpText(
      'after',
      `
Exit codes: 0 done (or already there), 2 invalid name, 3 unknown ref or tag, 4 tag exists on another version.

Examples:
  modelctl tag fraud@v3 1.4.0 -m "release candidate"
  modelctl tag fraud@v4 1.4.0 --force
  modelctl tag -d fraud@1.4.0
  modelctl tag -d fraud@1.4.0 --push`,
    )
    .action(
      action<TagFlags>(async (ctx, opts, ref: string, name: string | undefined) => {
        const api = await import('../../api/tag.js');
        if (opts.delete) {
          if (name !== undefined) throw new UsageError('USAGE', 'tag -d takes one argument: <model>@<tag>', { hint: 'e.g. modelctl tag -d fraud@1.4.0' });
          const result = await api.deleteTag({ cwd: ctx.cwd, ref, argv: ctx.argv, push: opts.push, ...remoteTargetOf(opts) });
          ctx.out.warnAll(result);
          ctx.out.result(result, (r: DeleteTagResult) => {
            const here = `Deleted tag '${r.tag}' of ${r.model} (was ${r.version.ref}, ${r.version.shortId})`;
            if (!r.remote) return here;
            return `${here}; ${r.remote.status === 'deleted' ? `deleted on ${r.remote.url} too` : `${r.remote.url} held no such tag: nothing to delete there`}`;
          });
          return;
        }
        if (name === undefined) throw new UsageError('USAGE', 'missing tag name', { hint: 'write modelctl tag <ref> <name>, e.g. modelctl tag fraud@v3 1.4.0' });
        const result = await api.tag({ cwd: ctx.cwd, ref, name, message: opts.message, force: opts.force, argv: ctx.argv, push: opts.push, ...remoteTargetOf(opts) });
        ctx.out.warnAll(result);
        ctx.out.result(result, (r: TagResult) => {
          const v = `${r.version.ref} (${r.version.shortId})`;
          if (r.action === 'none') return `Tag '${r.tag}' already names ${v}; nothing to do`;
          if (r.action === 'tag-move') return `Moved tag '${r.tag}' from ${r.previous?.ref ?? '?'} to ${v}`;
          return `Tagged ${v} as '${r.tag}'`;
        });
      }),
    );
}
