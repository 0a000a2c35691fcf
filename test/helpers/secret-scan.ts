/**
 * Looking for leaked credentials: every command's stdout and stderr, and every byte of
 * every file under the folders that modelctl writes (the index and its WAL read raw, not
 * through SQLite), searched for each secret as written, URL-encoded and JSON-escaped.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import type { AsyncRun } from './temp-repo.js';

/** A named secret value to look for. */
export type Secrets = Record<string, string>;

/** The forms a secret can take once written somewhere: raw, URL-encoded, JSON-escaped, base64. */
function forms(value: string): string[] {
  const out = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64')]);
  return [...out].filter((f) => f.length >= 8);
}

/** Every file under `dir` (recursively), skipping folders named in `skip`. */
export function filesUnder(dir: string, skip: readonly string[] = []): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.includes(entry.name)) out.push(...filesUnder(p, skip));
    } else if (entry.isFile()) out.push(p);
  }
  return out;
}

/** Where each secret was found: `<secret name> in <place>`. */
export class LeakFinder {
  readonly leaks: string[] = [];
  scanned = { outputs: 0, files: 0, bytes: 0 };

  constructor(private readonly secrets: Secrets) {}

  /** Searches a command's output (stdout and stderr). */
  output(what: string, r: AsyncRun): void {
    this.scanned.outputs++;
    this.text(`${what} stdout`, r.stdout);
    this.text(`${what} stderr`, r.stderr);
  }

  text(where: string, text: string): void {
    this.bytes(where, Buffer.from(text, 'utf8'));
  }

  bytes(where: string, data: Buffer): void {
    this.scanned.bytes += data.length;
    for (const [name, value] of Object.entries(this.secrets)) {
      for (const form of forms(value)) {
        // latin1 keeps every byte as one char: a raw search over binary files (SQLite pages).
        if (data.includes(Buffer.from(form, 'utf8')) || data.toString('latin1').includes(form)) {
          this.leaks.push(`${name} in ${where}`);
          break;
        }
      }
    }
  }

  /** Searches every file under `dir` byte by byte. */
  tree(dir: string, label: string, skip: readonly string[] = []): void {
    for (const file of filesUnder(dir, skip)) {
      if (statSync(file).size > 64 * 1024 * 1024) continue;
      this.scanned.files++;
      this.bytes(`${label}/${relative(dir, file)}`, readFileSync(file));
    }
  }

  /** Fails with the list of leaks, if any. */
  expectNone(): void {
    expect(this.leaks, `credentials leaked:\n${this.leaks.join('\n')}`).toEqual([]);
  }
}
