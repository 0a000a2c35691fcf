import { homedir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelctlError } from '../../src/errors.js';
import { formatRemoteUrl, parseRemoteUrl, redactUrl } from '../../src/remote/url.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ModelctlError ? err.code : 'not a ModelctlError';
  }
}

describe('parseRemoteUrl', () => {
  it('parses s3 URLs into bucket and a /-terminated prefix', () => {
    expect(parseRemoteUrl('s3://bucket')).toEqual({ kind: 's3', bucket: 'bucket', prefix: '' });
    expect(parseRemoteUrl('s3://bucket/')).toEqual({ kind: 's3', bucket: 'bucket', prefix: '' });
    expect(parseRemoteUrl('s3://my.bucket-1/team/models/')).toEqual({ kind: 's3', bucket: 'my.bucket-1', prefix: 'team/models/' });
    expect(parseRemoteUrl('S3://b/p//q')).toEqual({ kind: 's3', bucket: 'b', prefix: 'p/q/' });
  });

  it('parses file URLs and plain paths into absolute folders', () => {
    expect(parseRemoteUrl('file:///srv/models')).toEqual({ kind: 'directory', path: '/srv/models' });
    expect(parseRemoteUrl('file://localhost/srv/my%20models')).toEqual({ kind: 'directory', path: '/srv/my models' });
    expect(parseRemoteUrl('/mnt/share/registry')).toEqual({ kind: 'directory', path: '/mnt/share/registry' });
    expect(parseRemoteUrl('../registry', { cwd: '/work/repo' })).toEqual({ kind: 'directory', path: '/work/registry' });
    expect(parseRemoteUrl('~/registry')).toEqual({ kind: 'directory', path: path.join(homedir(), 'registry') });
  });

  it('refuses what it cannot serve, with usage errors', () => {
    expect(codeOf(() => parseRemoteUrl(''))).toBe('INVALID_REMOTE_URL');
    expect(codeOf(() => parseRemoteUrl('s3://'))).toBe('INVALID_REMOTE_URL');
    expect(codeOf(() => parseRemoteUrl('s3://bucket/../escape'))).toBe('INVALID_REMOTE_URL');
    expect(codeOf(() => parseRemoteUrl('s3://bucket/p?x=1'))).toBe('INVALID_REMOTE_URL');
    expect(codeOf(() => parseRemoteUrl('s3://AKIA:secret@bucket/p'))).toBe('INVALID_REMOTE_URL');
    expect(codeOf(() => parseRemoteUrl('file://otherhost/share'))).toBe('INVALID_REMOTE_URL');
    expect(codeOf(() => parseRemoteUrl('gs://bucket/p'))).toBe('UNSUPPORTED_REMOTE_URL');
    expect(codeOf(() => parseRemoteUrl('https://s3.example.com/bucket'))).toBe('UNSUPPORTED_REMOTE_URL');
  });

  it('never echoes credentials in its errors', () => {
    try {
      parseRemoteUrl('s3://AKIAEXAMPLE:TopSecret123@bucket/p');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('TopSecret123');
    }
  });

  it('formats a spec back to a canonical URL', () => {
    expect(formatRemoteUrl(parseRemoteUrl('s3://b/x/y/'))).toBe('s3://b/x/y');
    expect(formatRemoteUrl(parseRemoteUrl('s3://b'))).toBe('s3://b');
    expect(formatRemoteUrl(parseRemoteUrl('file:///srv/r'))).toBe('/srv/r');
  });
});

describe('redactUrl', () => {
  it('strips userinfo', () => {
    expect(redactUrl('https://user:pa55@git.example.com/org/repo.git')).toBe('https://git.example.com/org/repo.git');
    expect(redactUrl('https://ghp_token@github.com/org/repo')).toBe('https://github.com/org/repo');
    expect(redactUrl('s3://AKIA:secret@bucket/p')).not.toContain('secret');
  });

  it('masks presigned-URL secrets but keeps the rest', () => {
    const url =
      'https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=deadbeef&X-Amz-Security-Token=FwoGZX&X-Amz-Expires=900';
    const out = redactUrl(url);
    for (const secret of ['deadbeef', 'FwoGZX', 'AKIA']) expect(out).not.toContain(secret);
    expect(out).toContain('X-Amz-Algorithm=AWS4-HMAC-SHA256');
    expect(out).toContain('X-Amz-Expires=900');
    expect(out).toContain('X-Amz-Signature=REDACTED');
  });

  it('leaves clean URLs and plain paths untouched', () => {
    for (const s of ['s3://bucket/prefix', '/srv/models', 'git@github.com:org/repo.git', 'https://example.com/a?b=c']) {
      expect(redactUrl(s)).toBe(s);
    }
  });
});
