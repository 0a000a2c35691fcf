import type { ChalkInstance } from 'chalk';
import type { RunLineage } from '../core/manifest.js';
import { formatBytes, formatDuration } from './format.js';

/** The lines `show` prints for a version made by `modelctl run`: the command, how it ended, its environment. */
export function runLineageLines(run: RunLineage | undefined, c: ChalkInstance): string[] {
  if (!run) return [];
  // A command that ended before the first sample has no measured peak: say so, not "0 B".
  const mem = run.peakMemory ? (run.peakMemory.samples > 0 && run.peakMemory.bytes > 0 ? `, peak ${formatBytes(run.peakMemory.bytes)}` : ', peak not measured') : '';
  const where = run.cwd === '.' ? '' : ` in ${run.cwd}/`;
  const lines = [`  run:    ${run.command.join(' ')}${where}  ${c.dim(`(exit ${run.exitCode}, ${formatDuration(run.durationMs)}${mem})`)}${run.log ? `  log: ${run.log}` : ''}`];
  const env = Object.entries(run.env);
  if (env.length) lines.push(`          ${c.dim(env.map(([k, v]) => `${k}=${v}`).join(' '))}`);
  return lines;
}
