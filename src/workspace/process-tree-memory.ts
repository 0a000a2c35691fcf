import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import type { PeakMemory } from '../core/manifest.js';

/** How often the process tree is sampled: short enough to see a tiny run, cheap on /proc. */
export const MEMORY_SAMPLE_INTERVAL_MS = 50;

/** A running measurement of a process tree's peak memory; `stop()` gives the result. */
export interface TreeMemorySampler {
  /** Takes one sample now (also done every interval). */
  sample(): void;
  /** Stops sampling; null when /proc could not be read at all (not Linux). */
  stop(): PeakMemory | null;
}

/**
 * The first samples, in ms after the spawn, before the regular interval takes over: a short
 * command (Node starts, trains a tiny model and exits in 30-40 ms on a fast machine) must be
 * seen at least once, and a sample costs about a millisecond.
 */
const EARLY_SAMPLES_MS = [5, 10, 20, 35];
/** Longest interval the sampler backs off to on a machine where one sample is expensive. */
const MAX_INTERVAL_MS = 1000;
/** At most this many /proc files are kept open between samples (the rest are opened each time). */
const MAX_OPEN_FILES = 256;

/**
 * Samples the memory of the process tree rooted at `rootPid` from /proc (docs/design.md §14):
 * every interval it finds the tree (processes whose parent chain reaches the root, or in the
 * root's process group, so daemonised helpers still count) and sums their resident set sizes
 * (VmRSS). The peak is the highest sum seen, or the highest per-process high-water mark
 * (VmHWM, kept by the kernel between samples) if that is larger. A peak that rises and falls
 * between two samples in processes that exit before the next one is missed: the figure is a
 * lower bound, exact for a single long-lived process. Sampling stays cheap: /proc files are
 * kept open and re-read in place, and when one sample still costs more CPU time than a tenth
 * of the interval the interval doubles (up to 1 s); the recorded `intervalMs` is the longest used.
 */
export function sampleTreeMemory(rootPid: number, intervalMs = MEMORY_SAMPLE_INTERVAL_MS): TreeMemorySampler {
  let peakSum = 0;
  let peakHwm = 0;
  let samples = 0;
  let readable = true;
  let interval = intervalMs;
  let timer: NodeJS.Timeout | null = null;
  const early: NodeJS.Timeout[] = [];
  const files = new ProcFiles();
  const sample = () => {
    const cpu0 = process.cpuUsage();
    const tree = processTree(rootPid, files);
    if (tree === null) {
      readable = false;
      return;
    }
    let sum = 0;
    let seen = 0;
    for (const pid of tree) {
      const mem = processMemory(pid, files);
      if (!mem) continue;
      seen++;
      sum += mem.rss;
      if (mem.hwm > peakHwm) peakHwm = mem.hwm;
    }
    // A sample that found no live process (the one taken at exit, once the command is reaped)
    // measured nothing and is not counted: `samples: 0` must keep meaning "not measured".
    if (seen === 0) return;
    if (sum > peakSum) peakSum = sum;
    samples++;
    // CPU time, not wall time: on a busy machine a sample waits for a core without costing one.
    const cpu = process.cpuUsage(cpu0);
    if (timer && (cpu.user + cpu.system) / 1000 > interval / 10 && interval < MAX_INTERVAL_MS) {
      interval = Math.min(MAX_INTERVAL_MS, interval * 2);
      clearInterval(timer);
      timer = setInterval(sample, interval);
      timer.unref();
    }
  };
  // No sample at spawn: the child may not have loaded its program yet (a reading there is of
  // the half-exec'd process: 16 KiB was seen for `true`). Only whether /proc is readable is
  // learnt now. A few early samples, then one every interval; a command that ends before the
  // first of them is "not measured".
  if (processTree(rootPid, files) === null) readable = false;
  for (const at of EARLY_SAMPLES_MS.filter((ms) => ms < intervalMs)) {
    const t = setTimeout(sample, at);
    t.unref();
    early.push(t);
  }
  timer = setInterval(sample, interval);
  timer.unref();
  return {
    sample,
    stop() {
      for (const t of early) clearTimeout(t);
      if (timer) clearInterval(timer);
      timer = null;
      files.closeAll();
      if (!readable && samples === 0) return null;
      return { bytes: Math.max(peakSum, peakHwm), method: 'proc-sampling', intervalMs: interval, samples };
    },
  };
}

/**
 * /proc/<pid>/stat and /proc/<pid>/status files held open: re-reading an open /proc file
 * costs one pread, where opening it costs an open, a read and a close each time. A file kept
 * open belongs to that process, not to its pid: once the process is gone, reads fail (and a
 * reused pid gets a new file).
 */
class ProcFiles {
  private readonly open = new Map<string, number>();
  private readonly buf = Buffer.allocUnsafe(16 * 1024);

  /** The file's text, or null when the process is gone. */
  read(path: string): string | null {
    let fd = this.open.get(path);
    if (fd === undefined) {
      try {
        fd = openSync(path, 'r');
      } catch {
        return null;
      }
      if (this.open.size < MAX_OPEN_FILES) this.open.set(path, fd);
      else return this.readOnce(fd);
    }
    try {
      const n = readSync(fd, this.buf, 0, this.buf.length, 0);
      return this.buf.toString('latin1', 0, n);
    } catch {
      this.close(path);
      return null;
    }
  }

  /** Closes the files of processes not in `alive`. */
  keepOnly(alive: ReadonlySet<number>): void {
    for (const path of [...this.open.keys()]) if (!alive.has(Number(path.split('/')[2]))) this.close(path);
  }

  closeAll(): void {
    for (const path of [...this.open.keys()]) this.close(path);
  }

  private readOnce(fd: number): string | null {
    try {
      const n = readSync(fd, this.buf, 0, this.buf.length, 0);
      return this.buf.toString('latin1', 0, n);
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }

  private close(path: string): void {
    const fd = this.open.get(path);
    this.open.delete(path);
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }
}

/** The pids of the tree under `rootPid` (itself included), or null without /proc. */
function processTree(rootPid: number, files: ProcFiles): number[] | null {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  const parent = new Map<number, number>();
  const inGroup = new Set<number>();
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const stat = files.read(`/proc/${name}/stat`);
    if (stat === null) continue; // exited meanwhile
    const pid = Number(name);
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses; the last ')' ends it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3);
    parent.set(pid, Number(fields[1]));
    if (Number(fields[2]) === rootPid) inGroup.add(pid);
  }
  files.keepOnly(new Set(parent.keys()));
  const tree: number[] = [];
  for (const pid of parent.keys()) {
    if (inGroup.has(pid)) {
      tree.push(pid);
      continue;
    }
    // Walk up the parent chain (bounded: pid 1 and 0 end it, as does a cycle).
    let p: number | undefined = pid;
    for (let hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
      if (p === rootPid) {
        tree.push(pid);
        break;
      }
      p = parent.get(p);
    }
  }
  return tree;
}

/** VmRSS and VmHWM of a process in bytes, or null when it is gone or a zombie. */
function processMemory(pid: number, files: ProcFiles): { rss: number; hwm: number } | null {
  const status = files.read(`/proc/${pid}/status`);
  if (status === null) return null;
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!rss) return null;
  return { rss: Number(rss[1]) * 1024, hwm: hwm ? Number(hwm[1]) * 1024 : 0 };
}
