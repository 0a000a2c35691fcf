import { describe, expect, it } from 'vitest';
import { looksLikeCredentialName, looksLikeCredentialValue, redactArgv, redactCommandLine, redactEnvironment } from '../../src/core/redact.js';
import { captureRunEnvironment } from '../../src/core/run-environment.js';

/** What `modelctl run` records of the environment and the command line (docs/design.md §14). */
describe('run redaction', () => {
  it('records only allow-listed (and configured) variables, credential-looking ones redacted', () => {
    const env = {
      TZ: 'UTC',
      CUDA_VISIBLE_DEVICES: '0,1',
      HOME: '/home/me',
      PATH: '/usr/bin',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      HF_TOKEN: 'hf_abcdefghijklmnopqrstuvwxyz012345',
      WANDB_API_KEY: 'x',
      MY_FLAG: 'https://user:pw@example.com/data?X-Amz-Signature=abc',
    };
    expect(captureRunEnvironment(env)).toEqual({ CUDA_VISIBLE_DEVICES: '0,1', TZ: 'UTC' });
    expect(captureRunEnvironment(env, ['MY_FLAG', 'HF_TOKEN', 'WANDB_API_KEY'])).toEqual({
      CUDA_VISIBLE_DEVICES: '0,1',
      HF_TOKEN: 'REDACTED',
      MY_FLAG: 'https://example.com/data?X-Amz-Signature=REDACTED',
      TZ: 'UTC',
      WANDB_API_KEY: 'REDACTED',
    });
    // A credential under an innocent name is caught by its shape.
    expect(redactEnvironment({ SEED: 'ghp_0123456789abcdefghijABCDEFGHIJ' })).toEqual({ SEED: 'REDACTED' });
  });

  it("modelctl's own command line as recorded: --password's value and the secrets of a command after -- are redacted", () => {
    expect(redactArgv(['sign', 'm@v1', '--key', 'k.pem', '--password', 'pw1', '--password=pw2', '-o', 'x.sig'])).toEqual(['sign', 'm@v1', '--key', 'k.pem', '--password', 'REDACTED', '--password=REDACTED', '-o', 'x.sig']);
    expect(redactArgv(['run', '-m', 'x', '--', 'python', 'train.py', '--token', 'abc', '--data', 'https://u:p@h/x'])).toEqual(['run', '-m', 'x', '--', 'python', 'train.py', '--token', 'REDACTED', '--data', 'https://h/x']);
    expect(redactArgv(['commit', 'm', '--data', 'https://u:p@h/x?X-Amz-Signature=s'])).toEqual(['commit', 'm', '--data', 'https://h/x?X-Amz-Signature=REDACTED']);
  });

  it('redacts credential options, assignments, token-shaped words and URL secrets in a command line', () => {
    expect(
      redactCommandLine([
        'python',
        'train.py',
        '--api-key',
        'abc',
        '--token=xyz',
        'HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz',
        '--author',
        'ada',
        '--lr',
        '0.01',
        'AKIAIOSFODNN7EXAMPLE',
        '--data',
        'https://bucket.s3.amazonaws.com/train.csv?X-Amz-Signature=deadbeef',
        'data/train.csv',
      ]),
    ).toEqual([
      'python',
      'train.py',
      '--api-key',
      'REDACTED',
      '--token=REDACTED',
      'HF_TOKEN=REDACTED',
      '--author',
      'ada',
      '--lr',
      '0.01',
      'REDACTED',
      '--data',
      'https://bucket.s3.amazonaws.com/train.csv?X-Amz-Signature=REDACTED',
      'data/train.csv',
    ]);
  });

  it('tells credentials from ordinary names and values', () => {
    for (const n of ['AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', '--password', 'DB_PASSWD', 'API_KEY', 'key', 'SESSION_COOKIE']) expect(looksLikeCredentialName(n), n).toBe(true);
    for (const n of ['TZ', '--author', '--epochs', 'MONKEY_COUNT', 'KEYBOARD_LAYOUT', 'CUDA_VISIBLE_DEVICES']) expect(looksLikeCredentialName(n), n).toBe(false);
    for (const v of ['AKIAIOSFODNN7EXAMPLE', 'xoxb-1234567890-abcdef', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig', 'B4qvMgVDcXTQMw/WSJOD/427CN8YrQ9A/8R6Pk4m']) {
      expect(looksLikeCredentialValue(v), v).toBe(true);
    }
    for (const v of ['data/train.csv', '/home/user/Projects/ModelTraining2024/x', 'CheckpointsForTheModel2024Version3Final', '0.001', 'a'.repeat(64)]) {
      expect(looksLikeCredentialValue(v), v).toBe(false);
    }
  });
});
