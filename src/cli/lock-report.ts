import type { ChalkInstance } from 'chalk';
import type { LockStatus } from '../api/lock-status.js';
import type { LockUpdate } from '../api/lock-update.js';
import type { CommandContext } from './action.js';

/**
 * Tells people what a command wrote into modelctl.lock (on stderr, so stdout stays the
 * command's own report): the models locked, and a warning while git merge conflicts remain.
 */
export function reportLock(ctx: CommandContext, lock: LockUpdate | null | undefined): void {
  if (!lock) return;
  if (lock.changed && !ctx.out.json && !ctx.out.quiet) {
    process.stderr.write(`Locked ${lock.models.map((m) => m.ref).join(', ')} in modelctl.lock (commit it to git)\n`);
  }
  if (lock.conflicts.length) {
    ctx.out.warn(`modelctl.lock still has git merge conflicts for ${lock.conflicts.join(', ')}: choose a version for each with \`modelctl checkout <model>@<ref> --lock\``);
  }
}

/** The lines `status` prints about modelctl.lock: open merge conflicts, and each locked model the workspace does not match. */
export function describeLockStatus(lock: LockStatus | null, c: ChalkInstance): string[] {
  if (!lock) return [];
  const lines: string[] = [];
  for (const x of lock.conflicts) {
    lines.push(`${c.red('modelctl.lock:')} unresolved git merge conflict for ${x.model} (ours v${x.ours ?? '–'}, theirs v${x.theirs ?? '–'}): choose with \`modelctl checkout ${x.model}@<ref> --lock\``);
  }
  const off = lock.models.filter((m) => !m.matches);
  for (const m of off) {
    const what = [m.modified.length ? `${m.modified.length} modified` : '', m.missing.length ? `${m.missing.length} missing` : ''].filter(Boolean).join(', ');
    lines.push(`${c.yellow('modelctl.lock:')} the workspace differs from ${m.model}@v${m.number} (${m.version.slice(0, 12)}): ${what}${m.known ? '' : ' (not in this repository yet)'}`);
    for (const p of m.modified) lines.push(`  ${c.yellow('modified:')} ${p}`);
    for (const p of m.missing) lines.push(`  ${c.red('missing: ')} ${p}`);
  }
  if (off.length) lines.push('  restore the locked versions with `modelctl checkout`, or lock what you have with `modelctl commit <model> --lock`');
  // Files that match a version this clone has never seen (a teammate's lock, fetched by git
  // but not by modelctl): right bytes, but log/show/checkout of it would fail here.
  const unknown = lock.models.filter((m) => m.matches && !m.known);
  for (const m of unknown) {
    lines.push(`${c.yellow('modelctl.lock:')} the workspace matches the files locked as ${m.model}@v${m.number} (${m.version.slice(0, 12)}), a version not in this repository: \`modelctl fetch\` brings its record`);
  }
  if (!off.length && !unknown.length && lock.conflicts.length === 0 && lock.models.length) lines.push(`modelctl.lock: the workspace matches every locked model (${lock.models.length})`);
  return lines;
}
