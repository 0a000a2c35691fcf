import { fstatSync, writeSync } from 'node:fs';
import { fsError, isErrnoException } from '../errors.js';

/**
 * The CLI's own output goes to file descriptors 1 and 2 with write(2), not through
 * process.stdout and process.stderr: creating one of those streams loads Node's stream
 * modules (and tty or net), ~7 ms of a command that spends ~40 ms beyond `node` itself
 * (README, Performance). Node's stdio is synchronous on Linux for files, pipes and terminals
 * alike, so this keeps its behaviour: every byte is written before the next line of code
 * runs, and process.exit loses nothing.
 *
 * Once a stream exists (a prompt, a progress bar or a package wrote through it), writes go
 * through it, so output keeps its order; a descriptor that is non-blocking (inherited so)
 * answers EAGAIN when full, and then the stream, which waits for it, takes over for good.
 */

type StdName = 'stdout' | 'stderr';
const FD: Record<StdName, number> = { stdout: 1, stderr: 2 };
const streamMade: Record<StdName, boolean> = { stdout: false, stderr: false };
let onOutputError: ((err: NodeJS.ErrnoException) => void) | null = null;

/**
 * Gives stdout and stderr `onError` (a closed reader: EPIPE) without creating the streams:
 * it is attached to each stream when something first asks for it, and it gets the EPIPE of
 * a direct write too. Called once, by main.ts.
 */
export function watchStdio(onError: (err: NodeJS.ErrnoException) => void): void {
  onOutputError = onError;
  for (const name of ['stdout', 'stderr'] as const) {
    const d = Object.getOwnPropertyDescriptor(process, name);
    const get = d?.get;
    if (!d || !get || !d.configurable) {
      streamMade[name] = true;
      process[name].on('error', onError);
      continue;
    }
    let stream: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: d.enumerable,
      get() {
        if (!stream) {
          stream = get.call(process) as NodeJS.WriteStream;
          streamMade[name] = true;
          stream.on('error', onError);
        }
        return stream;
      },
    });
  }
}

/**
 * Whether stdout or stderr is a terminal. A pipe or a file (CI, `| less`, `> log`) is told
 * by one fstat, without creating the stream; only a character device is asked its isTTY.
 */
export function isTerminal(name: StdName): boolean {
  try {
    if (!fstatSync(FD[name]).isCharacterDevice()) return false;
  } catch {
    return false; // closed
  }
  return !!process[name].isTTY;
}

/** Writes `text` to stdout (see the module comment). */
export function writeStdout(text: string): void {
  write('stdout', text);
}

/** Writes `text` to stderr (see the module comment). */
export function writeStderr(text: string): void {
  write('stderr', text);
}

function write(name: StdName, text: string): void {
  if (streamMade[name]) {
    process[name].write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(FD[name], bytes, done, bytes.length - done);
    } catch (err) {
      if (isErrnoException(err, 'EAGAIN')) {
        process[name].write(bytes.subarray(done));
        return;
      }
      if (isErrnoException(err, 'EPIPE') && onOutputError) {
        onOutputError(err);
        return;
      }
      // Reported like any error (`> file` on a full disk: NO_SPACE, exit 4); stderr's own
      // failure cannot be reported anywhere, and the exit status still tells.
      if (name === 'stderr') return;
      throw fsError(err, 'writing the output');
    }
  }
}
