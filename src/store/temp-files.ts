import { closeSync, linkSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isErrnoException } from '../errors.js';

/**
 * Temp files this process has open. On SIGINT/SIGTERM the CLI removes them all before
 * exiting 130, so an interrupted command leaves nothing half-written behind.
 */
const live = new Set<string>();

let created = 0;

/**
 * Creates an exclusive temp file in `dir` and registers it; returns path and fd. The name
 * starts with the process id (how verify and gc tell a dead writer's files) and is made
 * unique by a counter and random digits; the exclusive create is what guarantees it, so a
 * name that exists already (a store shared between hosts) is simply drawn again. Math.random
 * suffices for that and, unlike node:crypto, costs nothing to load.
 */
export function createTempFile(dir: string, suffix = '.tmp'): { path: string; fd: number } {
  let fd = -1;
  const path = claimTempName(dir, suffix, (p) => {
    fd = openSync(p, 'wx', 0o600);
  });
  return { path, fd };
}

/**
 * Hard-links `existing` under a new registered temp name in `dir` and returns that name:
 * createTempFile's exclusive claim made by link(2), which never replaces a file either, so a
 * file that is moved or linked into a folder costs one call instead of a create, a close and
 * an unlink before it (a pull of 10,000 small files).
 */
export function linkAsTempFile(existing: string, dir: string, suffix = '.tmp'): string {
  return claimTempName(dir, suffix, (p) => linkSync(existing, p));
}

/** Draws names until `claim` (an exclusive create) succeeds; registers and returns the name. */
function claimTempName(dir: string, suffix: string, claim: (path: string) => void): string {
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `${process.pid}-${(created++).toString(36)}${Math.random().toString(36).slice(2, 10)}${suffix}`);
    try {
      claim(path);
      live.add(path);
      return path;
    } catch (err) {
      if (!isErrnoException(err, 'EEXIST') || attempt >= 8) throw err;
    }
  }
}

/**
 * Registers a temp file created elsewhere (a directory remote's `.~modelctl-tmp-*`), so an
 * interrupted command removes it too; pair with releaseTempFile once it is renamed or gone.
 */
export function registerTempFile(path: string): void {
  live.add(path);
}

/** Forgets a temp file that has been renamed into place or removed. */
export function releaseTempFile(path: string): void {
  live.delete(path);
}

/** Closes (when fd given) and deletes a temp file, ignoring errors. */
export function discardTempFile(path: string, fd?: number): void {
  if (fd !== undefined) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
  live.delete(path);
}

/**
 * Folders a command made to hold its temp files (checkout's new subfolders, in the order
 * made): an interrupt removes those left empty once the temp files are gone.
 */
const liveFolders = new Set<string>();

/** Registers folders just made for temp files, parents before children. */
export function registerTempFolders(paths: readonly string[]): void {
  for (const p of paths) liveFolders.add(p);
}

/** Forgets folders that now hold placed files (or were removed). */
export function releaseTempFolders(paths: readonly string[]): void {
  for (const p of paths) liveFolders.delete(p);
}

/** Deletes every registered temp file, then the registered folders left empty (signal handler path: synchronous on purpose). */
export function removeAllTempFiles(): void {
  if (live.size > 0) {
    const paths = [...live];
    for (const p of paths) discardTempFile(p);
    // An open already handed to libuv's thread pool can create its (registered) file just
    // after that pass. Hold this thread briefly, so nothing new starts while in-flight opens
    // land, then sweep the same names again.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    for (const p of paths) discardTempFile(p);
  }
  for (const folder of [...liveFolders].reverse()) {
    try {
      rmdirSync(folder); // fails, as it should, on a folder that holds anything
    } catch {
      /* not empty, or gone */
    }
    liveFolders.delete(folder);
  }
}

/**
 * Lets a pending SIGINT/SIGTERM run its handler (which removes the temp files and exits
 * 130). Synchronous work such as hashing keeps the handler from running at all, so a
 * command that did only that could finish, exit 0, and ignore Ctrl-C; commands await this
 * where stopping is clean: after the long work, before anything becomes visible.
 */
export async function interruptionPoint(): Promise<void> {
  // Two turns of the event loop: the signal is read in a poll phase, and one check phase may
  // come before it.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * interruptionPoint for a loop of synchronous steps (verify's objects): the returned
 * function yields only once `everyMs` have passed since it last did, so a long run acts on
 * Ctrl-C within that time plus one step, and many tiny steps pay next to nothing for it.
 */
export function interruptionPoints(everyMs = 50): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < everyMs) return;
    await interruptionPoint();
    last = performance.now();
  };
}
