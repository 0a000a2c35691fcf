import type { Command } from 'commander';
import type { VerifyResult } from '../../api/verify.js';
import type { VerifySignaturesResult } from '../../api/verify-signatures.js';
import { action, collect } from '../action.js';
import { withEndpointOptions } from '../remote-options.js';
import { countOf, formatBytes } from '../format.js';

/** `modelctl verify [ref]`: re-hash the store. */
export function registerVerify(program: Command): Command {
  return withEndpointOptions(
    program
      .command('verify')
      .description('re-hash the store (or one version) and report every missing or corrupt object; exit 6 on any')
      .argument('[ref]', 'only this version')
      .option('--rebuild-index', 'rebuild .modelctl/index.db from the store (after damage)')
      .option('--signature', "check the version's signatures and attestations against trust.keys instead (exit 6 unless validly signed)")
      .option('--signed-by <key>', 'with --signature: also require a valid signature by this key (a trust.keys name or a PEM public key file; repeatable)', collect, [])
      .option('-r, --remote <name|url>', "check what a remote holds for the ref (or every model's latest) instead of the local store"),
  )
    .addHelpText('after', '\nExamples:\n  modelctl verify\n  modelctl verify fraud@production\n  modelctl verify fraud@production --remote origin\n  modelctl verify fraud@production --signature\n  modelctl verify fraud@production --signature --signed-by keys/release.pub\n  modelctl verify --rebuild-index')
    .action(
      action<{ rebuildIndex?: boolean; remote?: string; endpoint?: string; region?: string; signature?: boolean; signedBy: string[] }>(async (ctx, opts, ref?: string) => {
        if (opts.signedBy.length && !opts.signature) {
          const { UsageError } = await import('../../errors.js');
          throw new UsageError('SIGNED_BY_WITHOUT_SIGNATURE', '--signed-by is an option of `verify <ref> --signature`', { hint: `modelctl verify ${ref ?? 'fraud@production'} --signature --signed-by ${opts.signedBy[0]}` });
        }
        if (opts.signature) {
          if (!ref) {
            const { UsageError } = await import('../../errors.js');
            throw new UsageError('MISSING_REF', 'verify --signature needs the version to check', { hint: 'modelctl verify fraud@production --signature' });
          }
          const { verifySignatures, assertSignaturesVerified } = await import('../../api/verify-signatures.js');
          const result = await verifySignatures({ cwd: ctx.cwd, ref, signedBy: opts.signedBy });
          ctx.out.result(result, renderSignatures);
          assertSignaturesVerified(result);
          return;
        }
        if (opts.rebuildIndex) {
          const { rebuildIndex } = await import('../../api/rebuild-index.js');
          const result = await rebuildIndex({ cwd: ctx.cwd });
          ctx.out.result(result, (r) =>
            [
              `Rebuilt the index: ${countOf(r.versions, 'version')}, ${countOf(r.objects, 'object')}${r.movedTo ? ` (old index kept at ${r.movedTo})` : ''}`,
              r.restoredFrom === 'journal'
                ? `Restored version numbers, ${countOf(r.salvaged.tags, 'tag')}, ${countOf(r.salvaged.stages, 'stage')} and ${countOf(r.salvaged.events, 'event')} from the journal (.modelctl/journal.jsonl)`
                : r.salvaged.numbers
                  ? `Kept version numbers, ${countOf(r.salvaged.tags, 'tag')}, ${countOf(r.salvaged.stages, 'stage')} and ${countOf(r.salvaged.events, 'event')} from the old index`
                  : 'No journal, and the old index could not be read: numbers follow creation order; tags, stages and events start afresh',
              ...r.unprovable.events.map((id) => `left out event ${id.slice(0, 12)}: its content does not hash to its id`),
              ...r.unprovable.refs.map((ref) => `left out ${ref}: no manifest on disk for the version it names`),
              ...r.skippedManifests.map((s) => `skipped manifest ${s.id.slice(0, 12)}: ${s.reason}`),
            ].join('\n'),
          );
          return;
        }
        const { verify, assertVerified } = await import('../../api/verify.js');
        if (opts.remote) {
          const { verifyRemote } = await import('../../api/verify-remote.js');
          const result = await verifyRemote({ cwd: ctx.cwd, ref, remote: opts.remote, endpoint: opts.endpoint, region: opts.region });
          ctx.out.result(result, renderVerify);
          assertVerified(result);
          return;
        }
        const result = await verify({ cwd: ctx.cwd, ref });
        ctx.out.result(result, renderVerify);
        assertVerified(result);
      }),
    );
}

function renderSignatures(r: VerifySignaturesResult): string {
  const lines = [`${r.version.ref} (${r.version.shortId}): ${r.ok ? `signed by ${r.signedBy.join(', ')}` : 'NOT VERIFIED'}`];
  for (const s of r.signatures) {
    const state = s.valid === true ? 'valid' : s.valid === false ? 'INVALID' : 'unchecked';
    lines.push(`  ${s.kind} by ${s.keyName ?? `key ${s.keyHint.slice(0, 16)}…`}: ${state}${s.problem ? ` — ${s.problem}` : ''}`);
  }
  if (r.missing.length) lines.push(`  required but missing: ${r.missing.join(', ')}`);
  return lines.join('\n');
}

function renderVerify(r: VerifyResult): string {
  const lines = [`Checked ${countOf(r.objectsChecked, 'object')} (${formatBytes(r.bytesChecked)}) and ${countOf(r.manifestsChecked, 'manifest')}: ${r.ok ? 'all good' : 'PROBLEMS FOUND'}`];
  for (const p of r.problems) lines.push(`  ${p.kind}: ${p.id}  ${p.detail}`);
  if (r.remoteOnly) lines.push(`  not checked: ${countOf(r.remoteOnly, 'object')} held only by a remote (pull it with --out to check its bytes here)`);
  return lines.join('\n');
}
