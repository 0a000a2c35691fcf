import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { LineageResult } from '../../api/lineage.js';
import type { LineageNode, LineageTree } from '../../core/lineage-graph.js';
import { action } from '../action.js';
import { formatBytes } from '../format.js';

interface LineageFlags {
  depth?: string;
}

/** `modelctl lineage <ref>`: upstream inputs and downstream fine-tunes of a version. */
export function registerLineage(program: Command): Command {
  return program
    .command('lineage')
    .description('upstream (code, data, parent versions) and downstream (versions fine-tuned from it) of a version')
    .argument('<ref>', 'the version')
    .option('--depth <n>', 'parent/child hops to follow (default: all; 0: the version and its own inputs)')
    .addHelpText('after', '\n--json prints {root, depth, nodes, edges}; edges run from an input to the version made from it.\n\nExamples:\n  modelctl lineage fraud@production\n  modelctl lineage fraud@v3 --depth 1 --json')
    .action(
      action<LineageFlags>(async (ctx, opts, ref: string) => {
        let depth: number | undefined;
        if (opts.depth !== undefined) {
          depth = /^\d+$/.test(opts.depth) ? Number(opts.depth) : NaN;
          if (!Number.isSafeInteger(depth)) throw new UsageError('INVALID_DEPTH', `--depth must be a whole number ≥ 0, got '${opts.depth}'`);
        }
        const { lineage } = await import('../../api/lineage.js');
        const { upstreamTree, downstreamTree } = await import('../../core/lineage-graph.js');
        const result = await lineage({ cwd: ctx.cwd, ref, depth });
        ctx.out.result(result, (r: LineageResult) => {
          const up = upstreamTree(r);
          const down = downstreamTree(r);
          const lines = [label(up.node)];
          lines.push('├─ upstream');
          lines.push(...(up.children.length ? drawChildren(up.children, '│  ', 'parent ') : ['│  └─ (none recorded)']));
          lines.push('└─ downstream');
          lines.push(...(down.children.length ? drawChildren(down.children, '   ', '') : ['   └─ (none)']));
          return lines.join('\n');
        });
      }),
    );
}

/** Tree lines for `children`; `versionWord` names what a version child is ("parent " upstream). */
function drawChildren(children: LineageTree[], prefix: string, versionWord: string): string[] {
  const lines: string[] = [];
  children.forEach((c, i) => {
    const last = i === children.length - 1;
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${c.node.kind === 'version' ? versionWord : ''}${label(c.node)}${c.repeated ? ' (shown above)' : ''}`);
    lines.push(...drawChildren(c.children, `${prefix}${last ? '   ' : '│  '}`, versionWord));
  });
  return lines;
}

function label(n: LineageNode): string {
  switch (n.kind) {
    case 'version': {
      const name = n.missing ? `${n.model || '?'}@${n.versionId.slice(0, 12)} (not in the local index)` : `${n.ref} (${n.versionId.slice(0, 12)})`;
      const marks = [...n.stages, ...n.tags.map((t) => `tag ${t}`), ...(n.archived ? ['archived'] : [])];
      return `${name}${marks.length ? ` [${marks.join(', ')}]` : ''}`;
    }
    case 'code':
      return `code ${n.commit.slice(0, 12)}${n.branch ? ` on ${n.branch}` : ''}${n.dirty ? ' (uncommitted changes)' : ''}${n.remote ? ` ${n.remote}` : ''}`;
    case 'data':
      return `data ${n.source}${n.digest ? ` ${n.digest.slice(0, 12)}` : ''}${n.size !== null ? ` ${formatBytes(n.size)}` : ''}${n.etag ? ` etag ${n.etag}` : ''}`;
  }
}
