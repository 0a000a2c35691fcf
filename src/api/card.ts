import { resolve } from 'node:path';
import { readRegularFileSync } from '../store/regular-file.js';
import { fsError } from '../errors.js';
import type { AuditEvent } from '../core/events.js';
import { childVersionIds } from '../store/lineage-queries.js';
import { requireModel } from '../store/resolve-ref.js';
import { listStageHolders } from '../store/stages-table.js';
import { getVersion } from '../store/version-records.js';
import { readTemplate, renderTemplate, type TemplateContext } from '../workspace/templates.js';
import { MODELCTL_VERSION } from '../version.js';
import { withRepository, type CommonOptions } from './repository.js';
import { describeVersion, type ShowResult } from './version-details.js';
import type { VersionSummary } from './views.js';
import type { TensorTotals } from '../store/tensor-summaries.js';

/** How sizes and times appear in a card (the CLI passes its own human formatters). */
export interface CardFormatters {
  bytes(n: number): string;
  time(iso: string): string;
  /** The parameter line of a version's model files (docs/design.md §15). */
  parameters(t: TensorTotals): string;
}

/** Which version to describe, and how. */
export interface CardOptions extends CommonOptions {
  ref: string;
  /** A template file to use instead of the shipped templates/model-card.md (relative to cwd). */
  template?: string;
  /** Defaults: exact byte counts and `YYYY-MM-DD HH:MM` UTC times. */
  format?: Partial<CardFormatters>;
}

/** The rendered card and the version it describes. */
export interface CardResult {
  /** `<model>@v<N>` of the version described. */
  ref: string;
  version: VersionSummary;
  /** The rendered Markdown. */
  markdown: string;
  /** The template used: a path, or "builtin". */
  template: string;
}

const DEFAULT_FORMAT: CardFormatters = {
  bytes: (n) => `${n} B`,
  time: (iso) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`,
  parameters: (t) =>
    `${t.parameterCount} parameters (${t.dtypes.map((d) => d.dtype).join(', ') || 'no dtype'}) in ${t.tensorCount} tensors, ${t.files} ${t.formats.join('/')} file${t.files === 1 ? '' : 's'}`,
};

/**
 * Renders a Markdown model card for one version from what `show` knows (files, lineage,
 * params, metrics, tags, stages, events) plus the model's stage holders and the versions
 * derived from this one. Read-only. A custom template with an unknown placeholder is a
 * usage error (2) naming it.
 */
export async function card(opts: CardOptions): Promise<CardResult> {
  const format = { ...DEFAULT_FORMAT, ...opts.format };
  const { shown, extra } = await withRepository(opts, async (repo) => {
    const shown = await describeVersion(repo, opts.ref);
    const modelId = requireModel(repo.db, shown.version.model);
    const refOf = (id: string, model: string) => {
      const row = getVersion(repo.db, id);
      return row ? `${row.model}@v${row.number}` : `${model}@${id.slice(0, 12)}`;
    };
    const eventRefs = new Map<string, string>();
    for (const e of shown.events) {
      for (const v of [e.from, e.to]) if (v && /^[0-9a-f]{64}$/.test(v)) eventRefs.set(v, refOf(v, shown.version.model));
    }
    return {
      shown,
      extra: {
        eventRefs,
        parent: shown.lineage.parent ? refOf(shown.lineage.parent.version, shown.lineage.parent.model) : null,
        children: childVersionIds(repo.db, shown.version.id).map((id) => refOf(id, shown.version.model)),
        stageHolders: listStageHolders(repo.db, modelId).map((h) => ({
          stage: h.stage,
          ref: refOf(h.versionId, shown.version.model),
          current: h.versionId === shown.version.id,
        })),
        stageOrder: repo.settings.stages,
      },
    };
  });
  // Configured order first (staging before production), then any others.
  extra.stageHolders.sort((a, b) => rank(extra.stageOrder, a.stage) - rank(extra.stageOrder, b.stage) || a.stage.localeCompare(b.stage));

  let source: string;
  let templateName = 'builtin';
  if (opts.template) {
    const p = resolve(opts.cwd ?? process.cwd(), opts.template);
    try {
      source = readRegularFileSync(p).toString('utf8');
    } catch (err) {
      throw fsError(err, opts.template);
    }
    templateName = p;
  } else {
    source = readTemplate('model-card.md');
  }
  const markdown = renderTemplate(source, cardView(shown, extra, format), opts.template ?? 'templates/model-card.md');
  return { ref: shown.version.ref, version: shown.version, markdown, template: templateName };
}

function rank(order: readonly string[], stage: string): number {
  const i = order.indexOf(stage);
  return i === -1 ? order.length : i;
}

/** Text safe inside a Markdown table cell or code span: no pipes, line breaks or backticks. */
function cell(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/`/g, "'");
}

function keyValues(record: Record<string, unknown>): TemplateContext | null {
  const items = Object.entries(record)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key: cell(key), value: cell(value) }));
  return items.length ? { items } : null;
}

function cardView(
  r: ShowResult,
  extra: { eventRefs: Map<string, string>; parent: string | null; children: string[]; stageHolders: { stage: string; ref: string; current: boolean }[] },
  format: CardFormatters,
): TemplateContext {
  const v = r.version;
  const l = r.lineage;
  return {
    model: v.model,
    version: `v${v.number}`,
    ref: v.ref,
    id: v.id,
    shortId: v.shortId,
    created: `${format.time(v.createdAt)} UTC`,
    author: cell(v.author),
    // A blockquote: every line of the message keeps the quote marker.
    message: v.message.trim().split(/\r?\n/).join('\n> '),
    tags: v.tags.map((name) => ({ name })),
    tagsText: v.tags.length ? v.tags.map((t) => `\`${cell(t)}\``).join(', ') : 'none',
    stages: v.stages.map((name) => ({ name })),
    stagesText: v.stages.length ? v.stages.map((st) => `**${st}**`).join(', ') : 'none',
    archived: v.archived,
    fileCount: v.fileCount,
    totalSize: format.bytes(v.totalSize),
    sizeText: `${v.fileCount} file${v.fileCount === 1 ? '' : 's'}, ${format.bytes(v.totalSize)}`,
    weightsText: r.parameters ? cell(format.parameters(r.parameters)) : null,
    metrics: keyValues(l.metrics),
    params: keyValues(l.params),
    code: l.code
      ? { commit: l.code.commit.slice(0, 12), branch: l.code.branch ? cell(l.code.branch) : null, dirty: l.code.dirty, remote: l.code.remote ? cell(l.code.remote) : null }
      : null,
    data: l.data.map((d) => ({
      source: cell(d.source),
      kind: d.kind,
      size: d.size !== undefined ? format.bytes(d.size) : null,
      digest: d.digest ? d.digest.slice(0, 12) : (d.etag ?? d.versionId ?? null),
    })),
    parent: extra.parent ? { ref: extra.parent } : null,
    children: extra.children.map((ref) => ({ ref })),
    environment: {
      modelctl: l.environment.modelctl,
      node: l.environment.node,
      os: cell(l.environment.os),
      ci: l.environment.ci ? l.environment.ci.provider : null,
    },
    files: r.files.map((f) => ({ path: cell(f.path), size: format.bytes(f.size), digest: f.digest.slice(0, 12) })),
    modelStages: extra.stageHolders.length ? { items: extra.stageHolders } : null,
    history: r.events.map((e: AuditEvent) => ({
      at: format.time(e.at),
      action: e.action,
      actor: cell(e.actor),
      change: cell(describeChange(e, extra.eventRefs)),
      reason: cell(e.reason ?? ''),
    })),
    modelctlVersion: MODELCTL_VERSION,
  };
}

/** An event's change for people: ids shown as references, the tag or stage named. */
function describeChange(e: AuditEvent, refs: Map<string, string>): string {
  const show = (v: string | null) => (v === null ? '(none)' : (refs.get(v) ?? v));
  const subject = typeof e.data.tag === 'string' ? `${e.data.tag}: ` : typeof e.data.stage === 'string' ? `${e.data.stage}: ` : '';
  if (e.from === null && e.to === null) return subject.replace(/: $/, '');
  if (e.from === null) return `${subject}${show(e.to)}`;
  return `${subject}${show(e.from)} → ${show(e.to)}`;
}
