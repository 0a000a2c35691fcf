import { Option, type Command } from 'commander';
import type { PullResult } from '../../api/pull.js';
import type { LinkMode } from '../../workspace/materialize.js';
import { action, collect } from '../action.js';
import { remoteTargetOf, withEndpointOptions, withPlainHttpOption } from '../remote-options.js';
import { reportLock } from '../lock-report.js';
import { countOf, formatBytes } from '../format.js';
import { progressBar } from '../progress.js';
import { parseStripComponents, renderPlacement } from './placement-render.js';
import { parseJobs } from './push.js';

/** `modelctl pull <ref>`. */
export function registerPull(program: Command): Command {
  return withPlainHttpOption(withEndpointOptions(
    program
      .command('pull')
      .description('download a version (only missing chunks), verify it and check it out; works without a repository given --remote <url>')
      .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
      .option('-r, --remote <name|url>', 'remote (default: the default remote; a URL works outside a repository)')
      .option('-o, --out <dir>', 'write the files into this folder')
      .option('--strip-components <n>', 'with --out: drop the first n folders of every path (model/w.bin → w.bin with 1)')
      .option('-j, --jobs <n>', 'requests in flight (default 8)')
      .addOption(new Option('--link <mode>', 'how to place files').choices(['auto', 'reflink', 'hardlink', 'copy']))
      .option('-f, --force', 'overwrite files with local changes')
      .option('--lock', 'record the version in modelctl.lock (default: the lock setting; not with --out)')
      .option('--signed-by <key>', 'refuse unless this key signed the version (a trust.keys name or a PEM public key file; repeatable)', collect, []),
  ))
    .addHelpText(
      'after',
      '\nExamples:\n  modelctl pull fraud@production\n  modelctl pull fraud@production --remote s3://ml-registry/team --out ./model   # in CI, no repository needed\n  modelctl pull fraud@production --remote s3://ml-registry/team --out ./serving --strip-components 1   # model/w.bin → ./serving/w.bin\n  modelctl pull fraud@production --remote s3://ml-registry/team --out ./model --signed-by keys/release.pub   # verified before anything is written; ./model/model.sig\n  modelctl pull fraud@production --remote oci://ghcr.io/acme/models --out ./model   # from an OCI registry (CNCF ModelPack)\n  modelctl pull model@v1 --remote oci://registry.example/hand/model --out ./model   # an artifact modelctl did not make: the repository\'s last segment is the model, the OCI tag the selector',
    )
    .action(
      action<{ remote?: string; endpoint?: string; region?: string; out?: string; jobs?: string; link?: LinkMode; force?: boolean; lock?: boolean; stripComponents?: string; signedBy?: string[]; plainHttp?: boolean }>(async (ctx, opts, ref: string) => {
        const jobs = parseJobs(opts.jobs);
        const stripComponents = parseStripComponents(opts.stripComponents);
        const { pull } = await import('../../api/pull.js');
        const bar = await progressBar(ctx, 'pull');
        let result: PullResult;
        try {
          result = await pull({ cwd: ctx.cwd, ref, ...remoteTargetOf(opts), out: opts.out, jobs, link: opts.link, force: opts.force, lock: opts.lock, stripComponents, signedBy: opts.signedBy, onProgress: bar.listener });
        } finally {
          bar.stop();
        }
        ctx.out.warnAll(result);
        reportLock(ctx, result.lock);
        ctx.out.result(result, (r: PullResult) => {
          const d = r.download;
          return `Pulled ${r.version.ref} (${r.version.shortId}) from ${r.remote} into ${r.outDir}: ${countOf(d.chunksDownloaded, r.remote.startsWith('oci://') ? 'blob' : 'chunk')} downloaded (${formatBytes(d.bytesDownloaded)}), ${d.chunksReused} reused; ${renderPlacement(r.files, r.removed, 'not in this version')}; all verified${r.verifiedSignatures.length ? `; signed by ${r.verifiedSignatures.join(', ')}` : ''}${r.signature ? `; wrote ${r.signature.path}` : ''}`;
        });
      }),
    );
}
