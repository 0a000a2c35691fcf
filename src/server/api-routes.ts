import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotFoundError, UsageError } from '../errors.js';
import { diff } from '../api/diff.js';
import { history } from '../api/history.js';
import { lineage } from '../api/lineage.js';
import { show } from '../api/show.js';
import { tags } from '../api/tag.js';
import { auditChainStatusOf } from '../api/audit-status.js';
import { metricSeriesOf, modelOverviewOf, modelsOverviewOf } from '../api/model-overview.js';
import { stageTimelineOf } from '../api/stage-timeline.js';
import { versionFilesOf } from '../api/version-files.js';
import { versionsPageOf } from '../api/versions-page.js';
import { MODELCTL_VERSION } from '../version.js';
import type { ChangeStream } from './event-stream.js';
import { responseSink, sendVersionFile } from './file-response.js';
import { servedFileBytes } from '../api/served-bytes.js';
import { COMMON_HEADERS, HttpError, sendJson } from './http-response.js';
import { openApiDocument } from './openapi.js';
import type { ServedSource } from './served-source.js';
import { tarLength, tarParts, writeTar } from './version-tar.js';

/**
 * The JSON API under /api (docs/design.md §12; described by /api/openapi.json). Every handler
 * reads through the api layer: engines on the held-open repository for the hot paths, the
 * public verbs (show, diff, lineage, history, tags) for the rest. Nothing here writes.
 */

/** What a handler gets. */
export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Named path parameters, decoded. */
  params: Record<string, string>;
  source: ServedSource;
  changes: ChangeStream;
}

type Handler = (ctx: ApiContext) => Promise<void> | void;

/** One route: path segments after /api/, `:name` for a parameter, `*name` for the rest. */
interface Route {
  pattern: string[];
  handler: Handler;
}

const ok = (ctx: ApiContext, body: unknown) => sendJson(ctx.req, ctx.res, 200, body);

const ROUTES: Route[] = [
  { pattern: ['openapi.json'], handler: (ctx) => ok(ctx, openApiDocument()) },
  {
    pattern: ['info'],
    handler: (ctx) =>
      ok(ctx, {
        name: 'modelctl',
        version: MODELCTL_VERSION,
        mode: ctx.source.mode,
        remote: ctx.source.remote,
        readOnly: true,
        stageOrder: ctx.source.repo.settings.stages,
        remotePollSeconds: ctx.source.remotePollMs === null ? null : ctx.source.remotePollMs / 1000,
      }),
  },
  { pattern: ['models'], handler: (ctx) => ok(ctx, modelsOverviewOf(ctx.source.repo)) },
  { pattern: ['models', ':model'], handler: (ctx) => ok(ctx, modelOverviewOf(ctx.source.repo, ctx.params.model)) },
  {
    pattern: ['models', ':model', 'versions'],
    handler: (ctx) =>
      ok(
        ctx,
        versionsPageOf(ctx.source.repo, {
          model: ctx.params.model,
          sort: query(ctx, 'sort'),
          tag: query(ctx, 'tag'),
          stage: query(ctx, 'stage'),
          limit: intQuery(ctx, 'limit'),
          offset: intQuery(ctx, 'offset'),
        }),
      ),
  },
  { pattern: ['models', ':model', 'metrics', ':metric'], handler: (ctx) => ok(ctx, metricSeriesOf(ctx.source.repo, ctx.params.model, ctx.params.metric)) },
  { pattern: ['models', ':model', 'stages'], handler: (ctx) => ok(ctx, stageTimelineOf(ctx.source.repo, ctx.params.model)) },
  { pattern: ['models', ':model', 'tags'], handler: async (ctx) => ok(ctx, await tags({ cwd: ctx.source.cwd, model: ctx.params.model })) },
  { pattern: ['versions', ':ref'], handler: async (ctx) => ok(ctx, await show({ cwd: ctx.source.cwd, ref: ctx.params.ref })) },
  {
    pattern: ['versions', ':ref', 'lineage'],
    handler: async (ctx) => ok(ctx, await lineage({ cwd: ctx.source.cwd, ref: ctx.params.ref, depth: intQuery(ctx, 'depth') })),
  },
  { pattern: ['versions', ':ref', 'files', '*path'], handler: sendFile },
  { pattern: ['versions', ':ref', 'tar'], handler: sendTar },
  {
    pattern: ['diff'],
    handler: async (ctx) => ok(ctx, await diff({ cwd: ctx.source.cwd, refA: requiredQuery(ctx, 'a'), refB: requiredQuery(ctx, 'b') })),
  },
  { pattern: ['events'], handler: sendHistory },
  { pattern: ['events', 'stream'], handler: (ctx) => ctx.changes.attach(ctx.req, ctx.res) },
];

/** Answers a request under /api/ (`segments` are the decoded path segments after it). */
export async function handleApi(ctx: Omit<ApiContext, 'params'>, segments: string[]): Promise<void> {
  for (const route of ROUTES) {
    const params = match(route.pattern, segments);
    if (params) {
      await route.handler({ ...ctx, params });
      return;
    }
  }
  throw new HttpError(404, 'UNKNOWN_ENDPOINT', `no API endpoint at /api/${segments.join('/')}`, { exitCode: 3, hint: 'the endpoints are listed in /api/openapi.json' });
}

function match(pattern: string[], segments: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith('*')) {
      if (i >= segments.length) return null;
      params[p.slice(1)] = segments.slice(i).join('/');
      return params;
    }
    if (i >= segments.length) return null;
    if (p.startsWith(':')) params[p.slice(1)] = segments[i];
    else if (p !== segments[i]) return null;
  }
  return segments.length === pattern.length ? params : null;
}

function query(ctx: ApiContext, name: string): string | undefined {
  const v = ctx.url.searchParams.get(name);
  return v === null || v === '' ? undefined : v;
}

function requiredQuery(ctx: ApiContext, name: string): string {
  const v = query(ctx, name);
  if (v === undefined) throw new UsageError('MISSING_PARAMETER', `the query parameter '${name}' is required`, { hint: 'e.g. /api/diff?a=fraud@v1&b=fraud@v2' });
  return v;
}

function intQuery(ctx: ApiContext, name: string): number | undefined {
  const v = query(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError('INVALID_PARAMETER', `the query parameter '${name}' must be a whole number ≥ 0, got '${v.slice(0, 40)}'`);
  return Number(v);
}

/** GET /api/versions/{ref}/files/{path}: one file, matched against the manifest by its exact path. */
async function sendFile(ctx: ApiContext): Promise<void> {
  const { version, files } = versionFilesOf(ctx.source.repo, ctx.params.ref);
  // The path is looked up among the manifest's (validated) paths and never joined to a
  // folder: no request can name anything but an object of this version.
  const file = files.find((f) => f.path === ctx.params.path);
  if (!file) {
    throw new NotFoundError('UNKNOWN_FILE', `${version.ref} has no file '${ctx.params.path.slice(0, 200)}'`, {
      hint: `its files are listed by /api/versions/${encodeURIComponent(version.ref)}`,
    });
  }
  await ctx.source.ensureObjects([file], version.ref);
  await sendVersionFile(ctx.req, ctx.res, file, version.id, servedFileBytes(ctx.source.repo, file));
}

/** GET /api/versions/{ref}/tar: every file of the version in one tar stream. */
async function sendTar(ctx: ApiContext): Promise<void> {
  const { version, files, created } = versionFilesOf(ctx.source.repo, ctx.params.ref);
  await ctx.source.ensureObjects(files, version.ref);
  const parts = await tarParts(files, (f) => servedFileBytes(ctx.source.repo, f), new Date(created));
  const name = `${version.model.replace('/', '-')}-v${version.number}.tar`;
  ctx.res.writeHead(200, {
    ...COMMON_HEADERS,
    'Content-Type': 'application/x-tar',
    'Content-Length': String(tarLength(parts)),
    'Content-Disposition': `attachment; filename="${name}"`,
    ETag: `"${version.id}"`,
    'X-Modelctl-Version': version.id,
    'Cache-Control': 'no-cache',
  });
  if (ctx.req.method === 'HEAD') {
    ctx.res.end();
    return;
  }
  await writeTar(parts, responseSink(ctx.res));
  ctx.res.end();
}

/** GET /api/events: the audit events (newest `limit`, in chain order) with the chain's verification. */
async function sendHistory(ctx: ApiContext): Promise<void> {
  const limit = intQuery(ctx, 'limit') ?? 500;
  if (limit < 1 || limit > 10_000) throw new UsageError('INVALID_LIMIT', `limit must be from 1 to 10000, got ${limit}`);
  const result = await history({ cwd: ctx.source.cwd, model: query(ctx, 'model'), stage: query(ctx, 'stage'), since: query(ctx, 'since') });
  const status = auditChainStatusOf(ctx.source.repo);
  ok(ctx, {
    total: result.events.length,
    events: result.events.slice(-limit),
    verified: status.verified,
    firstBad: status.firstBad,
    head: status.head,
  });
}
