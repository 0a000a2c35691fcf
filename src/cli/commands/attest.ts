import type { Command } from 'commander';
import { action } from '../action.js';
import { renderSigning } from './sign.js';

interface AttestFlags {
  key: string;
  password?: string;
  output?: string;
}

/** `modelctl attest <ref> --key <private.pem>`: signed SLSA provenance of a version. */
export function registerAttest(program: Command): Command {
  return program
    .command('attest')
    .description('sign SLSA provenance v1 of a version, built from its lineage (code commit, data, params, builder)')
    .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
    .requiredOption('-k, --key <private.pem>', 'PEM private key (EC P-256, P-384 or P-521)')
    .option('--password <password>', 'password of an encrypted PEM key')
    .option('-o, --output <file>', 'also write the attestation (a Sigstore bundle) to this file')
    .addHelpText('after', '\nExamples:\n  modelctl attest fraud@v3 --key release.pem\n  modelctl attest fraud@production --key release.pem -o provenance.sigstore.json')
    .action(
      action<AttestFlags>(async (ctx, opts, ref: string) => {
        const { attest } = await import('../../api/attest.js');
        renderSigning(ctx, await attest({ cwd: ctx.cwd, ref, key: opts.key, password: opts.password, output: opts.output, argv: ctx.argv }));
      }),
    );
}
