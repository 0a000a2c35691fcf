import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExitCode, ModelctlError, type ExitCodeValue } from '../errors.js';

/**
 * How the server answers: JSON bodies, and errors as the CLI prints them with --json
 * (`{"error":{code,message,hint,exitCode,data?}}`, docs/design.md §3) with an HTTP status
 * derived from the exit code.
 */

/** The HTTP status for each exit code. */
const STATUS_OF_EXIT: Record<ExitCodeValue, number> = {
  [ExitCode.OK]: 200,
  [ExitCode.BUG]: 500,
  [ExitCode.USAGE]: 400,
  [ExitCode.NOT_FOUND]: 404,
  [ExitCode.CONFLICT]: 409,
  [ExitCode.POLICY]: 403,
  [ExitCode.INTEGRITY]: 500,
  [ExitCode.REMOTE]: 502,
  [ExitCode.INTERRUPTED]: 503,
};

/** An error answered with a specific HTTP status (auth, method, range) on top of its exit code. */
export class HttpError extends ModelctlError {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, opts: { exitCode?: ExitCodeValue; hint?: string; headers?: Record<string, string>; data?: Record<string, unknown> } = {}) {
    super(code, message, { exitCode: opts.exitCode ?? ExitCode.USAGE, hint: opts.hint, data: opts.data });
    this.status = status;
    this.headers = opts.headers ?? {};
  }
}

/** Headers every answer carries: no sniffing, no framing, no referrer leaks. */
export const COMMON_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** Sends a JSON document (HEAD: headers only). */
export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-cache',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/**
 * Answers a failure. ModelctlErrors keep their code, message, hint, exit code and data; any
 * other error is a bug (500, INTERNAL) whose details stay in the server's log, never in the
 * answer (they could name paths or credentials).
 */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, log: (line: string) => void): void {
  let e: ModelctlError;
  if (err instanceof ModelctlError) e = err;
  else {
    log(`internal error on ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    e = new ModelctlError('INTERNAL', 'unexpected failure in modelctl serve', { exitCode: ExitCode.BUG, hint: 'this is a bug in modelctl; the server log has the details' });
  }
  const status = e instanceof HttpError ? e.status : STATUS_OF_EXIT[e.exitCode] ?? 500;
  const body: Record<string, unknown> = { code: e.code, message: e.message, hint: e.hint ?? null, exitCode: e.exitCode };
  if (e.data) body.data = e.data;
  if (res.headersSent) {
    log(`${req.method} ${req.url} cut short: ${e.message} (${e.code})`);
    res.destroy(); // mid-stream: cutting the connection is the only honest signal left
    return;
  }
  sendJson(req, res, status, { error: body }, e instanceof HttpError ? e.headers : {});
}
