import { MODELCTL_VERSION } from '../version.js';

/**
 * The OpenAPI 3.1 description of the HTTP API (served at /api/openapi.json). The tests
 * validate this document and check every response the server gives against it, so it is
 * the contract: fields are only ever added (objects stay open to later fields, such as the
 * signatures and tensor summaries a version will carry), never renamed.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const num: Schema = { type: 'number' };
const bool: Schema = { type: 'boolean' };
const hex64: Schema = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const time: Schema = { type: 'string', format: 'date-time' };
const nullable = (s: Schema): Schema => (s.$ref ? { anyOf: [s, { type: 'null' }] } : { ...s, type: [s.type as string, 'null'] });
const arr = (items: Schema): Schema => ({ type: 'array', items });

/** An object with these required properties (and these optional ones); open to later fields. */
function obj(required: Record<string, Schema>, optional: Record<string, Schema> = {}): Schema {
  return { type: 'object', required: Object.keys(required), properties: { ...required, ...optional } };
}

const schemas: Record<string, Schema> = {
  Error: obj({
    error: obj(
      { code: str, message: str, hint: nullable(str), exitCode: { type: 'integer', enum: [1, 2, 3, 4, 5, 6, 7, 130] } },
      { data: { type: 'object' } },
    ),
  }),
  Info: obj({
    name: { const: 'modelctl' },
    version: str,
    mode: { enum: ['repository', 'remote'] },
    remote: nullable(str),
    readOnly: { const: true },
    stageOrder: arr(str),
    remotePollSeconds: nullable(num),
  }),
  VersionSummary: obj({
    id: hex64,
    shortId: str,
    model: str,
    number: int,
    ref: str,
    createdAt: time,
    author: str,
    message: str,
    fileCount: int,
    totalSize: int,
    parent: nullable(hex64),
    gitCommit: nullable(str),
    gitDirty: nullable(bool),
    archived: bool,
    tags: arr(str),
    stages: arr(str),
  }),
  VersionWithMetrics: {
    allOf: [ref('VersionSummary'), obj({ metrics: { type: 'object', additionalProperties: num } })],
  },
  StageHolding: obj({
    stage: str,
    version: nullable(ref('VersionSummary')),
    since: time,
    actor: nullable(str),
    action: nullable(str),
    reason: nullable(str),
  }),
  ModelOverview: obj({
    name: str,
    versions: int,
    latest: nullable(ref('VersionSummary')),
    stages: arr(ref('StageHolding')),
    metrics: arr(str),
    lastChange: nullable(time),
  }),
  ModelsOverview: obj({ models: arr(ref('ModelOverview')), stageOrder: arr(str) }),
  VersionsPage: obj({
    model: str,
    sort: str,
    limit: int,
    offset: int,
    total: int,
    versions: arr(ref('VersionWithMetrics')),
  }),
  MetricSeries: obj({
    model: str,
    metric: str,
    points: arr(obj({ number: int, id: hex64, createdAt: time, value: num })),
  }),
  MovedVersion: obj({ id: hex64, number: nullable(int), ref: nullable(str) }),
  StageTimeline: obj({
    model: str,
    stageOrder: arr(str),
    moves: arr(
      obj({
        stage: str,
        at: time,
        action: nullable(str),
        rollback: bool,
        actor: nullable(str),
        reason: nullable(str),
        version: nullable(ref('MovedVersion')),
        previous: nullable(ref('MovedVersion')),
        event: nullable(str),
      }),
    ),
  }),
  Tags: obj({
    model: str,
    tags: arr(
      obj({ name: str, version: hex64, shortId: str, number: nullable(int), ref: nullable(str), message: nullable(str), createdAt: time, actor: str }),
    ),
  }),
  ManifestFile: obj({ path: str, size: int, mode: { enum: [420, 493] }, digest: hex64 }, { chunk: hex64 }),
  Lineage: obj({
    code: nullable(obj({ commit: str, branch: nullable(str), dirty: bool, diffHash: nullable(str), remote: nullable(str), root: str })),
    data: arr(obj({ kind: { enum: ['file', 'dir', 'uri'] }, source: str }, { digest: hex64, size: int, files: int, etag: str, versionId: str })),
    params: { type: 'object' },
    metrics: { type: 'object' },
    parent: nullable(obj({ model: str, version: hex64 })),
    environment: obj({ modelctl: str, node: str, os: str, hostname: str, user: str, ci: nullable(obj({ provider: str, jobUrl: nullable(str) })) }),
    argv: arr(str),
  }),
  Event: obj({
    id: hex64,
    at: time,
    actor: str,
    host: str,
    action: str,
    model: nullable(str),
    version: nullable(hex64),
    from: nullable(str),
    to: nullable(str),
    reason: nullable(str),
    argv: arr(str),
    data: { type: 'object' },
  }),
  EventRecord: { allOf: [ref('Event'), obj({ seq: int, hash: hex64, prevHash: hex64, pushed: bool })] },
  SignatureCheck: obj(
    { kind: str, keyHint: str, keyName: nullable(str), valid: { type: ['boolean', 'null'] }, problem: nullable(str), createdAt: time, bundleId: str },
    { difference: { type: 'object' } },
  ),
  TensorTotals: obj({ files: int, formats: arr(str), tensorCount: int, parameterCount: int, tensorBytes: int, dtypes: arr(obj({ dtype: str, parameters: int })), unreadable: int }),
  Version: obj(
    {
      version: ref('VersionSummary'),
      files: arr(ref('ManifestFile')),
      lineage: ref('Lineage'),
      events: arr(ref('Event')),
      signatures: arr(ref('SignatureCheck')),
      parameters: nullable(ref('TensorTotals')),
      modelFiles: arr(obj({ path: str, digest: hex64, format: str, summary: nullable({ type: 'object' }), error: nullable(obj({ code: str, message: str })) })),
    },
    { tensors: arr({ type: 'object' }) },
  ),
  LineageGraph: obj({
    root: str,
    depth: nullable(int),
    nodes: arr(obj({ id: str, kind: { enum: ['version', 'data', 'code'] } })),
    edges: arr(obj({ from: str, to: str, kind: { enum: ['parent', 'data', 'code'] } })),
  }),
  Diff: obj({
    a: ref('VersionSummary'),
    b: ref('VersionSummary'),
    identical: bool,
    files: obj({ added: arr(ref('ManifestFile')), removed: arr(ref('ManifestFile')), changed: arr({ type: 'object' }), unchanged: int }),
    params: obj({ added: arr({ type: 'object' }), removed: arr({ type: 'object' }), changed: arr({ type: 'object' }), unchanged: int }),
    metrics: obj({ added: arr({ type: 'object' }), removed: arr({ type: 'object' }), changed: arr({ type: 'object' }), unchanged: int }),
    lineage: obj({ code: { type: 'object' }, parent: { type: 'object' }, data: obj({ added: arr({ type: 'object' }), removed: arr({ type: 'object' }) }) }),
  }),
  ChainBreak: obj({
    position: int,
    seq: nullable(int),
    id: nullable(str),
    reason: { enum: ['broken-link', 'hash-mismatch', 'payload-mismatch', 'missing-tail', 'head-mismatch'] },
    message: str,
  }),
  AuditLog: obj({
    total: int,
    events: arr(ref('EventRecord')),
    verified: bool,
    firstBad: nullable(ref('ChainBreak')),
    head: nullable(obj({ hash: str, count: int })),
  }),
  ChangeNotice: obj({
    seq: int,
    kind: { enum: ['stage', 'tag', 'version', 'audit'] },
    model: nullable(str),
    stage: nullable(str),
    tag: nullable(str),
    version: nullable(obj({ id: hex64, number: nullable(int), ref: nullable(str) })),
    event: ref('Event'),
  }),
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const json = (schema: string, description: string) => ({ description, content: { 'application/json': { schema: ref(schema) } } });
const errors = {
  '400': errorResponse('Bad parameter (exit code 2)'),
  '401': errorResponse('A bearer token is required'),
  '404': errorResponse('No such model, reference or file (exit code 3)'),
  '500': errorResponse('Integrity failure (exit code 6) or a bug (exit code 1)'),
  '502': errorResponse('The remote could not be reached (exit code 7)'),
};

const pathParam = (name: string, description: string, example?: string) => ({ name, in: 'path', required: true, description, schema: str, ...(example ? { example } : {}) });
const queryParam = (name: string, description: string, schema: Schema = str, required = false) => ({ name, in: 'query', required, description, schema });
const modelParam = pathParam('model', 'A model name; a namespaced one percent-encoded (`team%2Ffraud`)', 'fraud');
const refParam = pathParam('ref', 'A reference: `model[@latest|@vN|@stage|@tag|@idprefix]`, percent-encoded when namespaced', 'fraud@production');

function get(operationId: string, summary: string, responses: Record<string, unknown>, parameters: unknown[] = []) {
  return { get: { operationId, summary, parameters, responses: { ...responses, ...errors } } };
}

const fileHeaders = {
  ETag: { description: 'The file digest, quoted', schema: str },
  'X-Modelctl-Digest': { description: 'The modelctl file digest (README, Formats)', schema: hex64 },
  'X-Modelctl-Version': { description: 'The id of the version the reference resolved to', schema: hex64 },
  'Repr-Digest': { description: 'sha-256 of the whole file (RFC 9530), when known without reading it (files of one chunk)', schema: str },
  'Accept-Ranges': { schema: str },
};

/** The document served at /api/openapi.json. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'modelctl registry API',
      version: MODELCTL_VERSION,
      description:
        'Read-only HTTP API of `modelctl serve`: models, versions, files, lineage, diffs, stage history and the audit trail of a modelctl repository or remote. Errors carry the CLI\'s codes and exit codes.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    security: [{}, { bearer: [] }],
    paths: {
      '/api/info': get('info', 'What is served', { '200': json('Info', 'Server facts') }),
      '/api/models': get('listModels', 'Every model with its latest version, stage holders and last change', { '200': json('ModelsOverview', 'Models') }),
      '/api/models/{model}': get('getModel', 'One model at a glance', { '200': json('ModelOverview', 'The model') }, [modelParam]),
      '/api/models/{model}/versions': get('listVersions', 'A page of versions, filtered and sorted (by number, createdAt, totalSize or any numeric metric)', { '200': json('VersionsPage', 'One page') }, [
        modelParam,
        queryParam('sort', '`-accuracy` sorts by the metric descending, `accuracy` ascending; also `number`, `createdAt`, `totalSize`. Default `-number`'),
        queryParam('tag', 'Only versions with this tag'),
        queryParam('stage', 'Only the version holding this stage'),
        queryParam('limit', 'Page size (1–500, default 50)', { type: 'integer', minimum: 1, maximum: 500 }),
        queryParam('offset', 'Versions to skip (default 0)', { type: 'integer', minimum: 0 }),
      ]),
      '/api/models/{model}/metrics/{metric}': get('getMetricSeries', 'A numeric metric across the versions', { '200': json('MetricSeries', 'The series') }, [
        modelParam,
        pathParam('metric', 'Metric name', 'accuracy'),
      ]),
      '/api/models/{model}/stages': get('getStageTimeline', 'Every stage move: who moved which version when, and why (rollbacks marked)', { '200': json('StageTimeline', 'The moves, oldest first') }, [modelParam]),
      '/api/models/{model}/tags': get('listTags', 'The tags of a model', { '200': json('Tags', 'Tags by name') }, [modelParam]),
      '/api/versions/{ref}': get('getVersion', 'One version: files, lineage, params, metrics, tags, stages, events', { '200': json('Version', 'The version') }, [refParam]),
      '/api/versions/{ref}/lineage': get('getLineage', 'The lineage graph around a version (nodes and edges)', { '200': json('LineageGraph', 'The graph') }, [
        refParam,
        queryParam('depth', 'Parent/child hops to follow (default all)', { type: 'integer', minimum: 0 }),
      ]),
      '/api/versions/{ref}/files/{path}': {
        get: {
          operationId: 'getFile',
          summary: 'One file of a version, streamed; supports Range, If-Range and If-None-Match (ETag = digest)',
          parameters: [refParam, pathParam('path', 'The file path as recorded (slashes as they are)', 'model/weights.bin'), { name: 'Range', in: 'header', schema: str }],
          responses: {
            '200': { description: 'The file', headers: fileHeaders, content: { 'application/octet-stream': { schema: { type: 'string', contentEncoding: 'binary' } } } },
            '206': { description: 'The requested range', headers: { ...fileHeaders, 'Content-Range': { schema: str } }, content: { 'application/octet-stream': { schema: { type: 'string', contentEncoding: 'binary' } } } },
            '304': { description: 'Not modified (If-None-Match named the digest)' },
            '416': errorResponse('The range lies outside the file'),
            ...errors,
          },
        },
      },
      '/api/versions/{ref}/tar': {
        get: {
          operationId: 'getVersionTar',
          summary: 'Every file of a version as one tar stream, at their recorded paths',
          parameters: [refParam],
          responses: {
            '200': {
              description: 'A tar archive',
              headers: { 'X-Modelctl-Version': fileHeaders['X-Modelctl-Version'] },
              content: { 'application/x-tar': { schema: { type: 'string', contentEncoding: 'binary' } } },
            },
            ...errors,
          },
        },
      },
      '/api/diff': get('diffVersions', 'What differs between two versions', { '200': json('Diff', 'The differences') }, [
        queryParam('a', 'The "before" reference', str, true),
        queryParam('b', 'The "after" reference', str, true),
      ]),
      '/api/events': get('listEvents', 'The audit events (the newest `limit`, oldest first) and whether the hash chain verifies', { '200': json('AuditLog', 'Events and verification') }, [
        queryParam('model', 'Only this model'),
        queryParam('stage', 'Only moves of this stage'),
        queryParam('since', 'A date, date-time or age (7d, 12h)'),
        queryParam('limit', 'At most this many (1–10000, default 500)', { type: 'integer', minimum: 1, maximum: 10000 }),
      ]),
      '/api/events/stream': {
        get: {
          operationId: 'streamChanges',
          summary: 'Server-sent events: `event: stage|tag|version|audit`, `id: <seq>`, `data: ChangeNotice`; reconnect with Last-Event-ID',
          parameters: [{ name: 'Last-Event-ID', in: 'header', schema: str }],
          responses: {
            '200': { description: 'An event stream; each data line is a ChangeNotice', content: { 'text/event-stream': { schema: ref('ChangeNotice') } } },
            '401': errors['401'],
          },
        },
      },
      '/api/openapi.json': { get: { operationId: 'openapi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Needed when the server was started with --token-file' } },
    },
  };
}
