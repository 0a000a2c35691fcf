import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { action } from '../action.js';
import { untilStopSignal } from '../stop-signal.js';

/** What `serve --json` prints once it listens (one document), and what the text form says. */
export interface ServeStarted {
  url: string;
  host: string;
  port: number;
  mode: 'repository' | 'remote';
  /** The served repository or the cache folder. */
  folder: string;
  remote: string | null;
  tokenRequired: boolean;
  ui: boolean;
}

/** `modelctl serve`: the registry as a read-only HTTP API and web UI. */
export function registerServe(program: Command): Command {
  return program
    .command('serve')
    .description('serve the repository (or a remote, with --remote) as a read-only HTTP API and web UI')
    .option('-r, --remote <name|url>', 'serve this remote, read through a local cache (no repository needed)')
    .option('--host <address>', 'address to bind; anything but loopback needs --token-file', '127.0.0.1')
    .option('-p, --port <n>', 'port (0 picks a free one)', '8080')
    .option('--token-file <file>', 'require this bearer token (the file holds it) on every API request')
    .option('--poll <duration>', 'how often a served remote is checked for changes (e.g. 10s, 1m)', '10s')
    .option('--cache <dir>', 'cache folder for a served remote (default: a folder under ~/.cache/modelctl/serve)')
    .addHelpText(
      'after',
      '\nExamples:\n  modelctl serve                                   # http://127.0.0.1:8080/\n  modelctl serve --port 0 --json                   # a free port; prints {"url": …}\n  modelctl serve --remote s3://ml-registry/team --poll 30s\n  modelctl serve --host 0.0.0.0 --token-file serve.token\n  curl -fO http://127.0.0.1:8080/api/versions/fraud@production/files/model/weights.bin',
    )
    .action(
      action<{ remote?: string; host: string; port: string; tokenFile?: string; poll: string; cache?: string }>(async (ctx, opts) => {
        if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535) throw new UsageError('INVALID_PORT', `--port must be 0–65535, got '${opts.port}'`);
        const { parseDuration } = await import('../../core/time-filter.js');
        const pollMs = parseDuration(opts.poll, '--poll', 1000);
        const { openServedSource } = await import('../../server/open-source.js');
        const { startServer } = await import('../../server/serve.js');
        const log = (line: string) => {
          if (!ctx.flags.quiet) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
        };
        // Take the stop signal before anything long starts, so Ctrl-C during start-up is clean too.
        const stop = untilStopSignal();
        const source = await openServedSource({ cwd: ctx.cwd, remote: opts.remote, cache: opts.cache, pollMs, env: process.env, log });
        let server;
        try {
          server = await startServer({ source, host: opts.host, port: Number(opts.port), tokenFile: opts.tokenFile, log });
        } catch (err) {
          stop.release();
          await source.close();
          throw err;
        }
        const started: ServeStarted = {
          url: server.url,
          host: server.host,
          port: server.port,
          mode: source.mode,
          folder: source.cwd,
          remote: source.remote,
          tokenRequired: server.tokenRequired,
          ui: server.ui,
        };
        ctx.out.result(started, (s) =>
          [
            `Serving ${s.mode === 'remote' ? `${s.remote} (cache ${s.folder})` : s.folder} at ${s.url}${s.tokenRequired ? ' (bearer token required)' : ''}`,
            s.ui ? `  web UI: ${s.url}${s.tokenRequired ? '?token=<token>' : ''}` : '  web UI: not built (npm run build)',
            `  API:    ${s.url}api/  (described by ${s.url}api/openapi.json)`,
            '  Ctrl-C to stop',
          ].join('\n'),
        );
        const signal = await stop.stopped;
        log(`${signal}: stopping`);
        await server.close();
      }),
    );
}
