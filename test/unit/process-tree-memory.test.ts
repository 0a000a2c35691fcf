import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sampleTreeMemory } from '../../src/workspace/process-tree-memory.js';

/** The peak-memory sampler of `modelctl run` (docs/design.md §14), on real processes. */
describe.skipIf(process.platform !== 'linux')('process tree memory', () => {
  it('a process already gone is not measured: the sample taken at exit does not count', async () => {
    const child = spawn('true');
    await once(child, 'exit');
    const sampler = sampleTreeMemory(child.pid as number);
    sampler.sample();
    const peak = sampler.stop();
    expect(peak).not.toBeNull();
    expect(peak?.samples).toBe(0);
    expect(peak?.bytes).toBe(0);
  });

  it('a command shorter than the interval is still seen by the early samples', async () => {
    // A 1 s interval and a 150 ms command: only the early samples (5-35 ms in) can see it.
    const child = spawn('sleep', ['0.15']);
    await once(child, 'spawn');
    const sampler = sampleTreeMemory(child.pid as number, 1000);
    await once(child, 'exit');
    sampler.sample();
    const peak = sampler.stop();
    expect(peak?.samples).toBeGreaterThan(0);
    expect(peak?.bytes).toBeGreaterThan(64 * 1024);
    expect(peak?.intervalMs).toBe(1000);
  });

  it('stop() ends the early samples too', async () => {
    const child = spawn('sleep', ['0.2']);
    await once(child, 'spawn');
    const sampler = sampleTreeMemory(child.pid as number, 1000);
    const first = sampler.stop();
    await new Promise((r) => setTimeout(r, 60));
    expect(sampler.stop()?.samples).toBe(first?.samples);
    child.kill();
    await once(child, 'exit');
  });
});
