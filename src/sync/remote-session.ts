import { NotFoundError, UsageError } from '../errors.js';
import { closest } from '../core/refs.js';
import { redactUrl } from '../core/redact.js';
import { MARKER_KEY, decodeDoc, encodeDoc, markerSchema, type RemoteMarker } from '../core/remote-layout.js';
import { isPreconditionFailed, type Remote } from '../remote/remote.js';
import { formatRemoteUrl, mistypedUrlSuggestion, parseRemoteUrl } from '../remote/url.js';
import { CHUNKING, gearTableDigest } from '../store/gear.js';
import { writeTransaction, type Database } from '../store/index-db.js';
import { forgetRemote, getRemoteRef, setRemoteRef } from '../store/remote-tracking.js';
import type { RemoteSettings, Settings } from '../workspace/config.js';
import type { Repository } from '../workspace/repository.js';
import { FORMAT_VERSION } from '../core/manifest.js';
import { parseDuration } from '../core/time-filter.js';
import type { OciSession } from './oci/oci-session.js';
import type { SyncProtocol } from './protocol.js';

/** What every open remote has, whatever its kind. */
export interface SessionBase {
  /** The configured name, or null when a URL was given directly. */
  name: string | null;
  /** Stable id used to key what the index remembers about this remote. */
  remoteId: string;
  displayUrl: string;
  /** False where ref writes are not compare-and-swap (s3rver; every OCI registry): concurrent writers are unsafe there. */
  conditionalWrites: boolean;
  /** `events_retention` of the remote's settings in ms: events are written under Object Lock for this long (docs/design.md §16); null: not asked. */
  eventsRetentionMs?: number | null;
  /** What to tell a user who moves a ref there with --push when conditional writes do not hold. */
  concurrencyCaveat: string | null;
  /** push, fetch, pull and --push through this remote (sync/protocol.ts). */
  protocol: SyncProtocol;
}

/** An object store (s3://, a folder) holding the remote layout of docs/design.md §6. */
export interface StoreSession extends SessionBase {
  kind: 'store';
  remote: Remote;
  /** True when the remote holds no format marker, read as empty (mode `emptyOk`). */
  unmarked?: boolean;
}

/** An open remote: an object store, or an OCI registry (docs/design.md §13). */
export type RemoteSession = StoreSession | OciSession;

/**
 * The object store behind a session, for the commands that read the remote layout itself
 * (verify --remote, serve --remote, watch, the lock's restore); UsageError (2) for a registry.
 */
export function storeSessionOf(session: RemoteSession, command: string): StoreSession {
  if (session.kind === 'store') return session;
  throw ociUnsupported(command, session.displayUrl);
}

/**
 * Throws UsageError (2) for a URL that names no remote, or names an OCI registry, for a
 * command that needs an object store: told by the URL alone, before any network contact or
 * any folder is made for it (README: `serve --remote` and `watch` need an object store).
 */
export function assertStoreRemoteUrl(url: string, cwd: string, command: string): void {
  const parsed = parseRemoteUrl(url, { cwd });
  if (parsed.kind === 'oci') throw ociUnsupported(command, formatRemoteUrl(parsed));
}

function ociUnsupported(command: string, displayUrl: string): UsageError {
  return new UsageError('OCI_REMOTE_UNSUPPORTED', `${command} does not work with an OCI registry (${displayUrl}) yet`, {
    hint: 'push, pull, fetch, ls/log/show --remote and tag/promote/rollback --push work with oci:// remotes; use an s3:// or folder remote for this',
  });
}

/** The marker this build writes and expects. */
export function expectedMarker(): RemoteMarker {
  return { format: 'modelctl', version: FORMAT_VERSION, chunking: { ...CHUNKING, gearTableSha256: gearTableDigest() } };
}

/** True for strings that are remote URLs or paths rather than configured names. */
export function looksLikeUrl(s: string): boolean {
  // A mistyped URL (s3:/bucket) counts as one, so parsing it says "did you mean s3://bucket?"
  // instead of "no remote named …".
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s) || s.startsWith('/') || s.startsWith('.') || s.startsWith('~') || mistypedUrlSuggestion(s) !== null;
}

/** Throws UsageError (2) for a URL that names no remote (a mistyped s3:/bucket …), before anything is made for it. */
export function assertRemoteUrl(url: string, cwd: string): void {
  parseRemoteUrl(url, { cwd });
}

/**
 * Which remote a command talks to: a configured name or a URL (default: the default
 * remote), and for an s3:// URL the endpoint and region of an S3-compatible server
 * (without them the AWS SDK's AWS_ENDPOINT_URL_S3 / AWS_REGION apply).
 */
export interface RemoteTarget {
  remote?: string;
  endpoint?: string;
  region?: string;
  /** With an oci:// URL: plain HTTP to a registry that is not on this machine. */
  plainHttp?: boolean;
}

/**
 * ` --remote <name|url>` for a session that is not this repository's default remote, else
 * '': a hint's `modelctl fetch` must read the remote the conflict was met on, or following
 * it changes nothing and the retry fails the same way.
 */
export function remoteFlagFor(repo: Repository, session: Pick<SessionBase, 'name' | 'displayUrl'>): string {
  const wanted = session.name ?? session.displayUrl;
  return wanted === repo.settings.defaultRemote ? '' : ` --remote ${wanted}`;
}

/** Chooses the remote settings for a target (default: the default remote). */
export function chooseRemote(settings: Settings | null, target: RemoteTarget | undefined, env: NodeJS.ProcessEnv = process.env): { name: string | null; spec: RemoteSettings } {
  const wanted = target?.remote ?? settings?.defaultRemote ?? env.MODELCTL_REMOTE ?? null;
  const overrides = { ...(target?.endpoint ? { endpoint: target.endpoint } : {}), ...(target?.region ? { region: target.region } : {}), ...(target?.plainHttp ? { plain_http: true } : {}) };
  if (!wanted) {
    throw new NotFoundError('NO_REMOTE', 'no remote given and no default remote configured', {
      hint: 'add one with `modelctl remote add origin s3://bucket/prefix --default`, or pass --remote <name|url>',
    });
  }
  const configured = settings?.remotes[wanted];
  if (configured) {
    if (Object.keys(overrides).length) {
      throw new UsageError('INVALID_REMOTE_OPTION', `--endpoint, --region and --plain-http go with a remote URL; '${wanted}' is a configured remote with its own`, {
        hint: `change it with \`modelctl remote add ${wanted} ${redactUrl(configured.url)} --endpoint <url> --force\`, or pass the URL`,
      });
    }
    return { name: wanted, spec: configured };
  }
  if (looksLikeUrl(wanted)) return { name: null, spec: { url: wanted, ...overrides } };
  const near = closest(wanted, Object.keys(settings?.remotes ?? {}));
  throw new NotFoundError('UNKNOWN_REMOTE', `no remote named '${wanted}'${near.length ? ` — did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''}`, {
    hint: `add it with \`modelctl remote add ${wanted} s3://bucket/prefix\` (list them with \`modelctl remote ls\`)`,
  });
}

/**
 * Opens a remote and checks its format marker. With `create` (push) an absent marker is
 * written (create-only, so two first pushes agree); without it an empty remote is not
 * found (3), unless `emptyOk` (it is then read as a registry holding nothing). Another format version or chunker is refused (2) before anything is read.
 * Capabilities are probed once per repository and remembered in `db`.
 */
export async function openRemoteSession(
  settings: Settings | null,
  cwd: string,
  target: RemoteTarget | undefined,
  opts: { create: boolean; emptyOk?: boolean; db?: Database; env?: NodeJS.ProcessEnv; probe?: boolean },
): Promise<RemoteSession> {
  const { name, spec } = chooseRemote(settings, target, opts.env);
  const parsed = parseRemoteUrl(spec.url, { cwd });
  if (parsed.kind === 'oci') {
    if (spec.endpoint !== undefined || spec.region !== undefined) {
      throw new UsageError('INVALID_REMOTE_OPTION', `--endpoint and --region only apply to s3:// remotes, not ${redactUrl(spec.url)}`);
    }
    const { openOciSession } = await import('./oci/oci-session.js');
    return openOciSession(name, parsed, { plainHttp: spec.plain_http === true, env: opts.env ?? process.env });
  }
  if (spec.plain_http) throw new UsageError('INVALID_REMOTE_OPTION', `--plain-http only applies to oci:// remotes, not ${redactUrl(spec.url)}`);
  const { openRemote } = await import('../remote/open-remote.js');
  // The protocol (push, fetch, pull) loads with the first session, not with every command that could open one.
  const { storeProtocol } = await import('./protocol.js');
  const remote = await openRemote(spec, { cwd });
  try {
    const displayUrl = remote.displayUrl;
    const remoteId = `${displayUrl}${spec.endpoint ? ` @ ${redactUrl(spec.endpoint)}` : ''}`;
    const eventsRetentionMs = spec.events_retention ? parseDuration(spec.events_retention, `remotes.${name ?? displayUrl}.events_retention`) : null;
    // A writer to a remote that cannot keep objects write-once is refused before its first
    // write (a push would otherwise publish tags and stages, then fail at the events).
    if (eventsRetentionMs !== null && opts.create && !remote.objectLock) {
      throw new UsageError('OBJECT_LOCK_UNAVAILABLE', `${displayUrl} cannot keep objects write-once, but events_retention is set for it`, {
        hint: `remove events_retention from remotes.${name ?? '<name>'} (only s3:// remotes with Object Lock keep events write-once)`,
      });
    }
    const marker = await checkMarker(remote, displayUrl, opts.create, opts.emptyOk ?? false);
    const marked = marker !== null;
    if (opts.db) forgetIfAnotherRemote(opts.db, remoteId, marker);
    let conditionalWrites = true;
    if (opts.probe) {
      const cached = opts.db ? getRemoteRef(opts.db, remoteId, '.capabilities') : null;
      if (cached && typeof (cached.value as { conditionalWrites?: unknown })?.conditionalWrites === 'boolean') {
        conditionalWrites = (cached.value as { conditionalWrites: boolean }).conditionalWrites;
      } else {
        conditionalWrites = (await remote.probeCapabilities()).conditionalWrites;
        if (opts.db) setRemoteRef(opts.db, remoteId, '.capabilities', { etag: null, value: { conditionalWrites } });
      }
    }
    const concurrencyCaveat = conditionalWrites ? null : `${displayUrl} ignores conditional writes: a concurrent move by someone else could silently overwrite this one`;
    // The protocol closes over the session it belongs to.
    const session: StoreSession = { kind: 'store', name, remote, remoteId, displayUrl, conditionalWrites, eventsRetentionMs, concurrencyCaveat, ...(marked ? {} : { unmarked: true }), get protocol() { return protocol; } };
    const protocol = storeProtocol(session);
    return session;
  } catch (err) {
    await remote.close();
    throw err;
  }
}

/**
 * How a session is opened: `create` writes an absent format marker (push), `emptyOk` reads a
 * remote without one as empty, `probe` learns whether conditional writes hold.
 */
export interface SessionMode {
  create: boolean;
  emptyOk?: boolean;
  probe?: boolean;
}

/** Opens a session on the repository's remote, runs `fn`, and always closes the remote. */
export async function withRemoteSession<T>(repo: Repository, target: RemoteTarget | undefined, mode: SessionMode, fn: (session: RemoteSession) => Promise<T>): Promise<T> {
  const session = await openRemoteSession(repo.settings, repo.root, target, { ...mode, db: repo.db, env: repo.env });
  try {
    return await fn(session);
  } finally {
    await session.protocol.close();
  }
}

/** What the remote's format marker says of its identity: when it was made (null: a marker without `created`), and whether this contact made it. */
interface MarkerIdentity {
  created: string | null;
  madeNow: boolean;
}

/** Key under which the index remembers a remote's marker identity (remote_refs; not a remote document). */
const MARKER_MEMORY = '.marker';

/**
 * The index's memory of a remote is of the remote whose marker it last saw. A marker this
 * contact had to write (the remote was empty: new, or emptied) or one made at another time
 * (the remote was made anew under the same URL) means that memory is of something gone:
 * forgotten, so push uploads and checks instead of skipping (docs/design.md §7).
 */
function forgetIfAnotherRemote(db: Database, remoteId: string, marker: MarkerIdentity | null): void {
  if (!marker) return;
  const seen = getRemoteRef(db, remoteId, MARKER_MEMORY)?.value as { created?: unknown } | null | undefined;
  if (!marker.madeNow && seen && seen.created === marker.created) return;
  writeTransaction(db, () => {
    // Made now, or made at another time than the one remembered: not the remote remembered.
    // Never seen before (an index older than this rule): only remembered from now on.
    if (marker.madeNow || seen) forgetRemote(db, remoteId);
    setRemoteRef(db, remoteId, MARKER_MEMORY, { etag: null, value: { created: marker.created } });
  });
}

/** Checks (or with `create` writes) the format marker; null when it is absent and `emptyOk` lets that pass. */
async function checkMarker(remote: Remote, displayUrl: string, create: boolean, emptyOk: boolean): Promise<MarkerIdentity | null> {
  const expected = expectedMarker();
  let got = await remote.get(MARKER_KEY);
  if (!got) {
    if (!create && emptyOk) return null;
    if (!create) {
      throw new NotFoundError('NOT_A_REGISTRY', `${displayUrl} holds no modelctl registry (no ${MARKER_KEY})`, {
        hint: 'check the URL, or push to it first with `modelctl push`',
      });
    }
    try {
      const created = new Date().toISOString();
      await remote.put(MARKER_KEY, encodeDoc({ ...expected, created }), { condition: { ifAbsent: true } });
      return { created, madeNow: true };
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      got = await remote.get(MARKER_KEY); // another first push won the race: check theirs
      if (!got) throw err;
    }
  }
  const marker = decodeDoc(markerSchema, got.body, MARKER_KEY);
  const { created: _c, ...mine } = { ...marker };
  if (marker.version !== expected.version || JSON.stringify(sortKeys(mine.chunking)) !== JSON.stringify(sortKeys(expected.chunking))) {
    throw new UsageError('REMOTE_FORMAT_MISMATCH', `${displayUrl} uses modelctl format ${marker.version} with chunker '${marker.chunking.algorithm}' (${marker.chunking.gearTableSha256.slice(0, 12)}); this modelctl writes format ${expected.version} '${expected.chunking.algorithm}' (${expected.chunking.gearTableSha256.slice(0, 12)})`, {
      hint: 'use a modelctl version that matches the registry, or another remote',
    });
  }
  return { created: marker.created ?? null, madeNow: false };
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}
