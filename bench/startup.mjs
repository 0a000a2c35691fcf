// Start-up benchmarks (issue 13): `modelctl --version` against `node -e 0`, and `log`, `ls`,
// `show`, `status` on a small repository, interleaved so the machine's load hits all alike.
// Registered in bench/run.mjs as `--only startup`.
//
// Each target is on wall time (what a user waits for), measured without a wrapper process.
// The CPU time of each (user + system, by GNU time in separate runs) is reported beside it:
// on a shared machine the wall times swell with the load, the CPU times much less.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GNU_TIME, QUICK, WORK, fmtMs, log, median, modelctl, newRepo, record, run } from './lib.mjs';

/** The commands measured: id, words, target ratio to `node -e 0`. */
const COMMANDS = [
  { id: 'version', args: ['--version'], limit: 1.2 },
  { id: 'log', args: ['log', 'm'], limit: 1.5 },
  { id: 'ls', args: ['ls'], limit: 1.5 },
  { id: 'show', args: ['show', 'm'], limit: 1.5 },
  { id: 'status', args: ['status'], limit: 1.5 },
];

/** The 25th and 75th percentiles of `xs` (nearest rank): the spread a loaded machine gives. */
function quartiles(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return [at(0.25), at(0.75)];
}

/** node -e 0 and each command, n times each, interleaved; wall and CPU medians. */
export function caseStartup() {
  log('\n# start-up');
  const repo = newRepo(join(WORK, 'startup-repo'));
  writeFileSync(join(repo, 'w.bin'), 'weights');
  modelctl(['commit', 'm', 'w.bin', '-m', 'one', '--metric', 'acc=0.9', '-q'], { cwd: repo });
  writeFileSync(join(repo, 'w.bin'), 'weights, retrained');
  modelctl(['commit', 'm', 'w.bin', '-m', 'two', '--metric', 'acc=0.93', '-q'], { cwd: repo });
  // One run of each first: the settings are validated once, then remembered (docs/design.md §1).
  for (const c of COMMANDS) modelctl(c.args, { cwd: repo, noCpu: true });
  const n = QUICK ? 10 : 30;
  const wall = { node: [] };
  const cpu = { node: [] };
  for (const c of COMMANDS) {
    wall[c.id] = [];
    cpu[c.id] = [];
  }
  for (let i = 0; i < n; i++) {
    // Not wrapped in GNU time: its own fork would add the same milliseconds to both sides.
    wall.node.push(run(process.execPath, ['-e', '0'], { noCpu: true }).ms);
    for (const c of COMMANDS) wall[c.id].push(modelctl(c.args, { cwd: repo, noCpu: true }).ms);
    if (GNU_TIME && i % 3 === 0) {
      cpu.node.push(run(process.execPath, ['-e', '0']).cpuMs);
      for (const c of COMMANDS) cpu[c.id].push(modelctl(c.args, { cwd: repo }).cpuMs);
    }
  }
  const m = Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, median(v)]));
  const mc = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, median(v)]));
  for (const c of COMMANDS) {
    const ratio = m[c.id] / m.node;
    const cpuRatio = mc[c.id] / mc.node;
    // The ratio of each interleaved pair, so the spread is the ratio's, not each side's.
    const [lo, hi] = quartiles(wall[c.id].map((ms, i) => ms / wall.node[i]));
    record({
      id: `startup-${c.id}`,
      name: `modelctl ${c.args.join(' ')}${c.id === 'version' ? '' : ' (small repository)'}`,
      summary: `${fmtMs(m[c.id])} vs node -e 0 ${fmtMs(m.node)} (pairwise ratio p25–p75 ${lo.toFixed(2)}–${hi.toFixed(2)}×)${Number.isFinite(cpuRatio) ? `; CPU ${fmtMs(mc[c.id])} vs ${fmtMs(mc.node)} (${cpuRatio.toFixed(2)}×)` : ''}`,
      samplesMs: { node: wall.node, [c.id]: wall[c.id] },
      cpuMs: { node: cpu.node, [c.id]: cpu[c.id] },
      mediansMs: { node: m.node, [c.id]: m[c.id] },
      cpuMediansMs: { node: mc.node, [c.id]: mc[c.id] },
      ratioQuartiles: [Number(lo.toFixed(3)), Number(hi.toFixed(3))],
      target: { text: `≤ ${c.limit}× node -e 0`, limit: c.limit, value: Number(ratio.toFixed(3)), shown: `${ratio.toFixed(2)}×` },
    });
  }
}
