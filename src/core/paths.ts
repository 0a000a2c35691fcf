import { IntegrityError, UsageError } from '../errors.js';
import { printable } from './names.js';

/**
 * Checks a repository-relative path as recorded in a manifest: `/` separators, no empty,
 * `.` or `..` segment, no `.git` or `.modelctl` segment, not absolute, no drive letter, no
 * backslash, no NUL or control characters. Untrusted manifests fail with IntegrityError (exit 6); user input with
 * UsageError (exit 2), chosen by `source`.
 */
export function assertSafeRelativePath(p: string, source: 'manifest' | 'user' = 'manifest'): void {
  const reason = unsafePathReason(p);
  if (reason === null) return;
  const msg = `unsafe path '${printable(p)}': ${reason}`;
  if (source === 'manifest') throw new IntegrityError('UNSAFE_PATH', msg, { hint: 'the manifest was crafted or corrupted; do not use it' });
  throw new UsageError('UNSAFE_PATH', msg);
}

/** Why a relative path is unsafe, or null when it is fine. */
export function unsafePathReason(p: string): string | null {
  if (typeof p !== 'string' || p.length === 0) return 'empty';
  if (p.length > 4096) return 'too long';
  if (/[\x00-\x1f]/.test(p)) return 'control character or NUL';
  if (p.includes('\\')) return 'backslash';
  if (p.startsWith('/')) return 'absolute';
  if (/^[A-Za-z]:/.test(p)) return 'drive letter';
  for (const seg of p.split('/')) {
    if (seg === '') return 'empty segment';
    if (seg === '.' || seg === '..') return `'${seg}' segment`;
    // Git's and modelctl's own folders (any case: case-insensitive file systems): a file
    // there is a hook or a config that would run or take effect later. Commit never
    // selects them, so only a crafted manifest can name them.
    const lower = seg.toLowerCase();
    if (lower === '.git' || lower === '.modelctl') return `'${seg}' folder`;
  }
  return null;
}

/** Converts an OS-relative path to the manifest form with `/` separators. */
export function toPosixPath(p: string): string {
  return p.split(/[\\/]+/).join('/');
}
