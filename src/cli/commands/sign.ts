import type { Command } from 'commander';
import type { VersionSigningResult } from '../../api/sign.js';
import { action, type CommandContext } from '../action.js';

interface SignFlags {
  key: string;
  password?: string;
  output?: string;
}

/** `modelctl sign <ref> --key <private.pem>`: an OpenSSF Model Signing signature of a version. */
export function registerSign(program: Command): Command {
  return program
    .command('sign')
    .description('sign a version with OpenSSF Model Signing (OMS v1.0: DSSE in a Sigstore bundle; EC key P-256, P-384 or P-521)')
    .argument('<ref>', 'a reference: model[@latest|@v3|@stage|@tag|@idprefix]')
    .requiredOption('-k, --key <private.pem>', 'PEM private key (EC P-256, P-384 or P-521)')
    .option('--password <password>', 'password of an encrypted PEM key')
    .option('-o, --output <file>', 'also write the signature (model.sig) to this file')
    .addHelpText(
      'after',
      `
The signature travels with the version (push publishes it, fetch and pull bring it, export
and import carry it) and is checked by \`modelctl verify <ref> --signature\` and stage
policies (require_signatures).
A deployed copy (\`pull --out\`) verifies with \`model_signing verify key\` unchanged.

Examples:
  openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out release.pem
  openssl pkey -in release.pem -pubout -out keys/release.pub
  modelctl config set --shared trust.keys.release keys/release.pub
  modelctl sign fraud@v3 --key release.pem
  modelctl sign fraud@staging --key release.pem -o model.sig --json`,
    )
    .action(
      action<SignFlags>(async (ctx, opts, ref: string) => {
        const { sign } = await import('../../api/sign.js');
        renderSigning(ctx, await sign({ cwd: ctx.cwd, ref, key: opts.key, password: opts.password, output: opts.output, argv: ctx.argv }));
      }),
    );
}

/** Prints a sign or attest result (shared with attest). */
export function renderSigning(ctx: CommandContext, result: VersionSigningResult): void {
  ctx.out.warnAll(result);
  ctx.out.result(result, (r) => {
    const what = r.kind === 'signature' ? 'Signed' : 'Attested';
    const by = r.keyName ? `trusted key '${r.keyName}'` : `key ${r.keyHint.slice(0, 16)}… (${r.curve}, not in trust.keys)`;
    const head = r.created ? `${what} ${r.version.ref} (${r.version.shortId}) with ${by}` : `${r.version.ref} already has a${r.kind === 'signature' ? ' signature' : 'n attestation'} by ${by}; kept it`;
    return r.output ? `${head}\nWrote ${r.output}` : head;
  });
}
