import type { ProgressListener, TransferProgress } from '../api/push.js';
import type { CommandContext } from './action.js';
import { formatBytes } from './format.js';

/**
 * A transfer progress bar on stderr (bytes, rate, ETA) from cli-progress — only when stderr
 * is a terminal and output is for people (never with --json, -q or in a pipe).
 */
export async function progressBar(ctx: CommandContext, verb: string): Promise<{ listener: ProgressListener | undefined; stop: () => void }> {
  if (!ctx.out.interactiveStderr) return { listener: undefined, stop: () => undefined };
  const { SingleBar, Presets } = ((await import('cli-progress')) as unknown as { default: typeof import('cli-progress') }).default;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      // Not {total}/{value}: cli-progress fills those itself with the raw byte counts.
      format: `${verb} {bar} {percentage}% | {doneBytes}/{totalBytes} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  let started = false;
  const t0 = Date.now();
  const listener = (p: TransferProgress) => {
    if (p.bytesTotal === 0) return;
    const payload = { doneBytes: formatBytes(p.bytesDone), totalBytes: formatBytes(p.bytesTotal), rate: formatBytes(Math.round(p.bytesDone / Math.max(0.001, (Date.now() - t0) / 1000))) };
    if (!started) {
      bar.start(p.bytesTotal, p.bytesDone, payload);
      started = true;
    } else bar.update(p.bytesDone, payload);
  };
  return { listener, stop: () => started && bar.stop() };
}
