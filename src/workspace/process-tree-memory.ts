import { readFileSync, readdirSync } from 'node:fs';
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
 * Samples the memory of the process tree rooted at `rootPid` from /proc (docs/design.md §14):
 * every MEMORY_SAMPLE_INTERVAL_MS it finds the tree (processes whose parent chain reaches the
 * root, or in the root's process group, so daemonised helpers still count) and sums their
 * resident set sizes (VmRSS). The peak is the highest sum seen, or the highest per-process
 * high-water mark (VmHWM, kept by the kernel between samples) if that is larger. A peak that
 * rises and falls between two samples in processes that exit before the next one is missed:
 * the figure is a lower bound, exact for a single long-lived process.
 */
export function sampleTreeMemory(rootPid: number, intervalMs = MEMORY_SAMPLE_INTERVAL_MS): TreeMemorySampler {
  let peakSum = 0;
  let peakHwm = 0;
  let samples = 0;
  let readable = true;
  const sample = () => {
    const tree = processTree(rootPid);
    if (tree === null) {
      readable = false;
      return;
    }
    let sum = 0;
    for (const pid of tree) {
      const mem = processMemory(pid);
      if (!mem) continue;
      sum += mem.rss;
      if (mem.hwm > peakHwm) peakHwm = mem.hwm;
    }
    if (sum > peakSum) peakSum = sum;
    samples++;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    sample,
    stop() {
      clearInterval(timer);
      if (!readable && samples === 0) return null;
      return { bytes: Math.max(peakSum, peakHwm), method: 'proc-sampling', intervalMs, samples };
    },
  };
}

/** The pids of the tree under `rootPid` (itself included), or null without /proc. */
function processTree(rootPid: number): number[] | null {
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
    const pid = Number(name);
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses; the last ')' ends it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parent.set(pid, Number(fields[1]));
    if (Number(fields[2]) === rootPid) inGroup.add(pid);
  }
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
function processMemory(pid: number): { rss: number; hwm: number } | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return null;
  }
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!rss) return null;
  return { rss: Number(rss[1]) * 1024, hwm: hwm ? Number(hwm[1]) * 1024 : 0 };
}
