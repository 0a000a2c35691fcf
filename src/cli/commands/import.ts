import type { Command } from 'commander';
import type { ImportResult } from '../../api/bundle-import.js';
import { action } from '../action.js';
import { countOf, formatBytes } from '../format.js';

/** `modelctl import <file>`: bring in a version from a bundle, verifying every byte first. */
export function registerImport(program: Command): Command {
  return program
    .command('import')
    .description('import a version from a bundle made by `modelctl export`; every digest is verified first')
    .argument('<file>', 'the bundle: file.tar, file.tar.gz or file.tgz')
    .addHelpText(
      'after',
      `
Nothing becomes visible until every digest is checked. A bundle with links, devices,
absolute or escaping names, or bytes that do not match their names is refused (exit 6);
a file that is not a bundle exits 2. Tags come along when their names are free here;
stages do not (promote the version here). A version number already taken here is
replaced by the next free one.

Examples:
  modelctl import fraud-prod.tar.gz
  modelctl import /media/usb/fraud-v3.tar --json`,
    )
    .action(
      action<object>(async (ctx, _opts, file: string) => {
        const { importBundle } = await import('../../api/bundle-import.js');
        const result = await importBundle({ cwd: ctx.cwd, file });
        if (result.renumbered) ctx.out.warn(`v${result.sourceNumber} of ${result.version.model} is taken here: imported as v${result.version.number}`);
        for (const t of result.tags.skipped) ctx.out.warn(`tag '${t.name}' not restored: ${t.reason}`);
        ctx.out.result(result, (r: ImportResult) => {
          const v = r.version;
          const lines = [
            r.created
              ? `Imported ${v.ref} (${v.shortId}): ${r.objects.total} file${r.objects.total === 1 ? '' : 's'}, ${formatBytes(r.objects.bytes)}, ${r.events.imported} event${r.events.imported === 1 ? '' : 's'}${r.signatures.imported ? `, ${countOf(r.signatures.imported, 'signature')}` : ''}`
              : `Already here: ${v.ref} (${v.shortId}); its ${r.objects.total} file${r.objects.total === 1 ? '' : 's'} verified`,
          ];
          if (!r.created && r.signatures.imported) lines.push(`${countOf(r.signatures.imported, 'signature')} added`);
          if (r.tags.restored.length) lines.push(`Tags: ${r.tags.restored.join(', ')}`);
          if (r.stagesAtExport.length) lines.push(`It held ${r.stagesAtExport.join(', ')} where it came from; promote it here with \`modelctl promote ${v.ref} --to <stage>\``);
          return lines.join('\n');
        });
      }),
    );
}
