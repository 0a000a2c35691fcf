import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InterruptedError, UsageError, fsError } from '../../errors.js';
import type { WatchReport, WatchResult } from '../../api/watch.js';
import type { PlaceMode } from '../../workspace/deploy-folder.js';
import type { LinkMode } from '../../workspace/materialize.js';
import { action } from '../action.js';
import { untilStopSignal } from '../stop-signal.js';

interface WatchFlags {
  remote?: string;
  exec?: string;
  out?: string;
  interval: string;
  place: PlaceMode;
  link?: LinkMode;
  state?: string;
  webhook?: string;
  webhookSecretFile?: string;
  once?: boolean;
}

/** `modelctl watch <model>@<stage>`: deploy each version the stage moves to. */
export function registerWatch(program: Command): Command {
  return program
    .command('watch')
    .description('follow a stage on a remote and deploy each version it moves to: files placed atomically, then a command run')
    .argument('<ref>', 'what to follow: model@stage (or a tag, or model@latest)')
    .option('-r, --remote <name|url>', 'the remote (default: the default remote; a URL works without a repository)')
    .option('-o, --out <dir>', 'where the deployed version appears (a symbolic link switched atomically)')
    .option('--exec <command>', 'shell command run after each switch, with MODELCTL_* variables; if it fails, the previous version is put back')
    .option('--interval <duration>', 'how often to look (e.g. 30s, 5m)', '30s')
    .addOption(new Option('--place <mode>', 'how --out is switched').choices(['symlink', 'rename']).default('symlink'))
    .addOption(new Option('--link <mode>', 'how files are written from the cache').choices(['auto', 'reflink', 'hardlink', 'copy']))
    .option('--state <dir>', 'cache and state folder (default: beside --out)')
    .option('--webhook <url>', 'POST each stage move and deploy result here, HMAC-signed')
    .option('--webhook-secret-file <file>', 'the HMAC key for --webhook (or MODELCTL_WEBHOOK_SECRET)')
    .option('--once', 'look once, deploy if needed, and exit')
    .addHelpText(
      'after',
      '\nExamples:\n  modelctl watch fraud@production --remote s3://ml-registry/team --out /srv/models/fraud --exec "systemctl reload fraud-server"\n  modelctl watch fraud@staging --out ./model --interval 10s --webhook https://hooks.example/deploy --webhook-secret-file hook.key\n  modelctl watch fraud@production --exec \'kubectl rollout restart deploy/fraud\'   # no files, just the hook',
    )
    .action(
      action<WatchFlags>(async (ctx, opts, ref: string) => {
        const { parseDuration } = await import('../../core/time-filter.js');
        const intervalMs = parseDuration(opts.interval, '--interval', 1000);
        let webhook: { url: string; secret: string } | undefined;
        if (opts.webhook) {
          if (!/^https?:\/\//i.test(opts.webhook)) throw new UsageError('INVALID_WEBHOOK', `--webhook must be an http(s) URL, got '${opts.webhook.slice(0, 80)}'`);
          let secret = process.env.MODELCTL_WEBHOOK_SECRET ?? '';
          if (opts.webhookSecretFile) {
            try {
              secret = readFileSync(opts.webhookSecretFile, 'utf8').trim();
            } catch (err) {
              throw fsError(err, opts.webhookSecretFile);
            }
          }
          if (secret.length < 16) {
            throw new UsageError('WEBHOOK_SECRET_REQUIRED', 'webhook bodies are HMAC-signed: give a secret of at least 16 characters', {
              hint: 'openssl rand -hex 32 > hook.key, then --webhook-secret-file hook.key (or set MODELCTL_WEBHOOK_SECRET)',
            });
          }
          webhook = { url: opts.webhook, secret };
        }
        const { watch } = await import('../../api/watch.js');
        const stop = untilStopSignal();
        const controller = new AbortController();
        void stop.stopped.then(() => controller.abort());
        const print = (r: WatchReport) => {
          if (ctx.flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
          // A failed deploy ends a --once run with that failure as its error (exit 5 or 6),
          // which says the same: printed once, as the error, not also as a log line.
          else if (opts.once && r.event === 'deploy-failed') return;
          else if (!ctx.flags.quiet || r.level !== 'info') {
            const line = `${r.at} ${r.level === 'info' ? '' : `${r.level}: `}${r.message}\n`;
            (r.level === 'info' && r.event !== 'exec-output' ? process.stdout : process.stderr).write(r.level === 'error' ? ctx.out.color.red(line) : line);
          }
        };
        let result: WatchResult;
        try {
          result = await watch({
            cwd: ctx.cwd,
            ref,
            remote: opts.remote,
            exec: opts.exec,
            out: opts.out,
            place: opts.place,
            link: opts.link,
            intervalMs,
            stateDir: opts.state,
            webhook,
            once: opts.once,
            signal: controller.signal,
            onReport: print,
          });
        } finally {
          stop.release();
        }
        if (result.interrupted) throw new InterruptedError('watch stopped mid-step; the step was abandoned and nothing half-placed was left');
      }),
    );
}
