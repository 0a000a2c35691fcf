import type { Command } from 'commander';
import type { RemoteEntry } from '../../api/remote-manage.js';
import type { RemoteStatusResult } from '../../api/remote-status.js';
import { ModelctlError } from '../../errors.js';
import { action } from '../action.js';
import { withEndpointOptions } from '../remote-options.js';
import { countOf, table } from '../format.js';
import { oneLine } from '../event-format.js';

/** `modelctl remote add|ls|rm`. */
export function registerRemote(program: Command): Command {
  const remote = program
    .command('remote')
    .description('manage remotes: object stores (s3://bucket/prefix) or folders shared by a team')
    .addHelpText(
      'after',
      `
Examples:
  modelctl remote add origin s3://ml-registry/team --default
  modelctl remote add minio s3://models/registry --endpoint http://127.0.0.1:9000 --region us-east-1
  modelctl remote add share /mnt/team-share/modelctl
  modelctl remote ls`,
    );
  remote
    .command('add')
    .description('add a remote (written to modelctl.json; --local for this clone only)')
    .argument('<name>', 'remote name, e.g. origin')
    .argument('<url>', 's3://bucket/prefix, oci://host[:port]/repository, a folder path, or file:///folder')
    .option('--endpoint <url>', 'S3-compatible endpoint (MinIO, Ceph RGW, R2 …)')
    .option('--region <region>', 'S3 region')
    .option('--plain-http', 'oci:// only: plain HTTP to a registry that is not on this machine (loopback registries use it by themselves)')
    .option('--default', 'make it the default remote')
    .option('--events-retention <duration>', 'write audit events under S3 Object Lock for this long (90d, 52w, 7y): a write-once trail; the bucket must have Object Lock enabled')
    .option('--local', 'write .modelctl/config.json instead of modelctl.json')
    .option('-f, --force', 'replace a remote of the same name')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  modelctl remote add origin s3://ml-registry/team --default\n  modelctl remote add minio s3://models/registry --endpoint http://127.0.0.1:9000 --region us-east-1\n  modelctl remote add share /mnt/team-share/modelctl --local\n  modelctl remote add audit s3://locked-bucket/registry --events-retention 7y\n  modelctl remote add registry oci://ghcr.io/acme/models --default   # CNCF ModelPack artifacts; log in with docker login',
    )
    .action(
      action<{ eventsRetention?: string; endpoint?: string; region?: string; plainHttp?: boolean; default?: boolean; local?: boolean; force?: boolean }>(async (ctx, opts, name: string, url: string) => {
        const { remoteAdd } = await import('../../api/remote-manage.js');
        const r = await remoteAdd({ cwd: ctx.cwd, name, url, endpoint: opts.endpoint, region: opts.region, plainHttp: opts.plainHttp, eventsRetention: opts.eventsRetention, default: opts.default, local: opts.local, force: opts.force });
        ctx.out.result(r, (e: RemoteEntry) => `Added remote ${e.name} → ${e.url}${e.endpoint ? ` (endpoint ${e.endpoint})` : ''}${e.default ? ' [default]' : ''}`);
      }),
    );
  remote
    .command('ls')
    .description('list remotes (URLs shown without credentials)')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  modelctl remote ls\n  modelctl remote ls --json')
    .action(
      action<object>(async (ctx) => {
        const { remoteList } = await import('../../api/remote-manage.js');
        const r = await remoteList({ cwd: ctx.cwd });
        ctx.out.result(r, (x) =>
          x.remotes.length
            ? table(x.remotes.map((e) => [e.default ? `* ${e.name}` : `  ${e.name}`, e.url, e.endpoint ?? '', e.region ?? '', ctx.out.color.dim(e.source)]))
            : 'No remotes: add one with `modelctl remote add origin s3://bucket/prefix --default`',
        );
      }),
    );
  withEndpointOptions(
    remote
      .command('status')
      .description('compare this repository with a remote (default: every remote): versions it lacks, tags and stages that differ, unpublished events')
      .argument('[name]', 'remote name or URL')
      .option('--json', 'print one JSON document on stdout'),
  )
    .addHelpText('after', '\nExamples:\n  modelctl remote status\n  modelctl remote status origin --json\n  modelctl remote status s3://models/registry --endpoint http://minio:9000')
    .action(
      action<{ endpoint?: string; region?: string }>(async (ctx, opts, name: string | undefined) => {
        const { remoteStatus } = await import('../../api/remote-status.js');
        const r = await remoteStatus({ cwd: ctx.cwd, name, endpoint: opts.endpoint, region: opts.region });
        for (const s of r.remotes) for (const bad of s.rejected) ctx.out.warn(`${s.name}: skipped ${bad.key}: ${bad.reason}`);
        const render = (x: RemoteStatusResult) => [...x.remotes.map((s) => renderRemoteStatus(s)), ...x.failed.map(renderFailedRemote)].join('\n\n');
        // Every remote that could be read is reported; a remote that could not ends the
        // command with its own exit code (the first such), as fetch ends in 6 after a rejected document.
        const [first] = r.failed;
        if (!first) return ctx.out.result(r, render);
        // With nothing read, the error below is the whole report (printing the failure here too said it twice).
        if (!ctx.out.json && r.remotes.length > 0) ctx.out.result(r, render);
        const names = r.failed.map((f) => f.name).join(', ');
        throw new ModelctlError(first.error.code, `${r.failed.length === 1 ? `could not read remote ${first.name}` : `could not read ${r.failed.length} remotes (${names}); the first, ${first.name}`}: ${first.error.message}`, {
          exitCode: first.error.exitCode,
          hint: first.error.hint ?? `\`modelctl remote status ${first.name}\` shows that remote's error alone`,
          data: { failed: r.failed, result: r },
        });
      }),
    );
  remote
    .command('rm')
    .description('remove a remote')
    .argument('<name>', 'remote name')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  modelctl remote rm share')
    .action(
      action<object>(async (ctx, _opts, name: string) => {
        const { remoteRemove } = await import('../../api/remote-manage.js');
        const r = await remoteRemove({ cwd: ctx.cwd, name });
        ctx.out.result(r, () => `Removed remote ${name}`);
      }),
    );
  return remote;
}

function renderFailedRemote(f: RemoteStatusResult['failed'][number]): string {
  return `${f.name} (${f.remote}): could not be read: ${f.error.message}${f.error.hint ? `\n  hint: ${f.error.hint}` : ''}`;
}

function renderRemoteStatus(s: RemoteStatusResult['remotes'][number]): string {
  const unmarked = s.registry ? '' : ' holds no modelctl registry yet (no MODELCTL.json: check the URL if you expected one);';
  const head = `${s.name} (${s.remote}):${unmarked} ${s.models.length === 0 ? 'in sync' : `${countOf(s.models.length, 'model')} differ${s.models.length === 1 ? 's' : ''}`}${s.inSync.length && s.models.length ? `, ${countOf(s.inSync.length, 'model')} in sync` : ''}`;
  const short = (id: string | null) => (id === null ? 'none' : id.slice(0, 12));
  const lines = s.models.flatMap((m) => [
    `  ${m.model}:`,
    ...(m.versionsMissing.length ? [`    not on the remote: ${m.versionsMissing.map((v) => v.ref).join(', ')}`] : []),
    ...[...m.tags, ...m.stages].map((d) => `    ${d.kind} ${d.name}: here ${short(d.local)}, there ${short(d.remote)}`),
    ...(m.unpublishedEvents ? [`    ${countOf(m.unpublishedEvents, 'event')} not published`] : []),
  ]);
  const removed = s.removedOnRemote.map((r) => `  removed on the remote: ${r.ref} by ${r.actor} at ${r.at} (reason: ${oneLine(r.reason)}); kept here, push does not send it again`);
  const which = ` --remote ${/^[a-z0-9][a-z0-9._-]*$/i.test(s.name) ? s.name : s.remote}`;
  return [head, ...lines, ...removed, ...(s.models.length ? [`  \`modelctl push${which}\` publishes what is here; \`modelctl fetch${which}\` takes what is there`] : [])].join('\n');
}
