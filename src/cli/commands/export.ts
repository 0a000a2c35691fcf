import type { Command } from 'commander';
import type { ExportResult } from '../../api/bundle-export.js';
import { action } from '../action.js';
import { countOf, formatBytes } from '../format.js';

interface ExportFlags {
  output: string;
  force?: boolean;
}

/** `modelctl export <ref> -o file.tar[.gz]`: one version as a self-contained bundle. */
export function registerExport(program: Command): Command {
  return program
    .command('export')
    .description('write one version (manifest, lineage, events, files) to a self-contained tar bundle')
    .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
    .requiredOption('-o, --output <file>', 'the bundle: file.tar, or file.tar.gz / file.tgz for gzip')
    .option('-f, --force', 'replace the file if it exists')
    .addHelpText(
      'after',
      `
The bundle carries everything needed to rebuild the version elsewhere, with no remote:
hand it over on a USB stick to an air-gapped network and run \`modelctl import\` there.

Examples:
  modelctl export fraud@production -o fraud-prod.tar.gz
  modelctl export fraud@v3 -o /media/usb/fraud-v3.tar`,
    )
    .action(
      action<ExportFlags>(async (ctx, opts, ref: string) => {
        const { exportBundle } = await import('../../api/bundle-export.js');
        const result = await exportBundle({ cwd: ctx.cwd, ref, output: opts.output, force: opts.force });
        ctx.out.result(result, (r: ExportResult) =>
          `Exported ${r.version.ref} (${r.version.shortId}) to ${opts.output}: ${r.objects} file${r.objects === 1 ? '' : 's'}, ${formatBytes(r.objectBytes)}, ${r.events} event${r.events === 1 ? '' : 's'}${r.signatures ? `, ${countOf(r.signatures, 'signature')}` : ''}; bundle ${formatBytes(r.bundleBytes)}${r.gzip ? ' (gzip)' : ''}`,
        );
      }),
    );
}
