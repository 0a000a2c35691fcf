import type { Command } from 'commander';
import type { VerifySignatureResult } from '../../api/verify-signature.js';
import { action, collect } from '../action.js';

interface VerifySignatureFlags {
  signature: string;
  key: string;
  ignorePaths?: string[];
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  ignoreUnsignedFiles?: boolean;
}

/** `modelctl verify-signature <dir> --signature model.sig --key pub.pem`: `model_signing verify key`, in modelctl. */
export function registerVerifySignature(program: Command): Command {
  return program
    .command('verify-signature')
    .description('verify any folder (or file) signed with OpenSSF Model Signing, as `model_signing verify key` does; no repository needed')
    .argument('<path>', 'the model: a folder or a single file')
    .requiredOption('-s, --signature <file>', 'the signature (model.sig)')
    .requiredOption('-k, --key <public.pem>', "the signer's PEM public key")
    .option('--ignore-paths <path>', 'leave this path out (relative to the current folder; repeatable)', collect, [])
    .option('--no-ignore-git-paths', 'do not leave out .git, .gitattributes, .github and .gitignore at the top')
    .option('--allow-symlinks', 'follow symbolic links to files')
    .option('--ignore-unsigned-files', 'check only the signed files; extra files do not fail')
    .addHelpText(
      'after',
      `
Exit 0 when the folder is exactly what was signed; exit 6 naming each changed, missing
or unsigned file, or when the signature or key does not match.

Examples:
  modelctl verify-signature ./model --signature ./model/model.sig --key keys/release.pub
  modelctl verify-signature ./weights.bin --signature weights.sig --key release.pub
  modelctl verify-signature ./model --signature model.sig --key release.pub --ignore-paths ./model/cache`,
    )
    .action(
      action<VerifySignatureFlags>(async (ctx, opts, path: string) => {
        const { verifySignature } = await import('../../api/verify-signature.js');
        const result = await verifySignature({
          cwd: ctx.cwd,
          path,
          signature: opts.signature,
          key: opts.key,
          ignorePaths: opts.ignorePaths,
          ignoreGitPaths: opts.ignoreGitPaths,
          allowSymlinks: opts.allowSymlinks,
          ignoreUnsignedFiles: opts.ignoreUnsignedFiles,
        });
        ctx.out.warnAll(result);
        ctx.out.result(result, (r: VerifySignatureResult) => `Verification succeeded: ${r.files} file${r.files === 1 ? '' : 's'} of ${r.model} ${r.files === 1 ? 'matches' : 'match'} the signature (key ${r.keyHint.slice(0, 16)}…, ${r.curve})`);
      }),
    );
}
