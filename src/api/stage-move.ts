import { ConflictError, PolicyError, UsageError } from '../errors.js';
import { closest } from '../core/refs.js';
import { buildEvent, type AuditEvent } from '../core/events.js';
import { assertPoliciesNameStages, evaluatePolicy, type PolicyVerdict, type StagePolicyRules, type UnmetRule } from '../core/policy.js';
import { setInterruptNote } from '../store/interrupt-note.js';
import { appendEvent } from '../store/events-table.js';
import { getEventRecord, type EventRecord } from '../store/history-queries.js';
import { barrier } from '../store/test-barrier.js';
import { writeTransaction } from '../store/index-db.js';
import { versionKeyValues } from '../store/lineage-queries.js';
import { requireModel } from '../store/resolve-ref.js';
import { getStageHolder, moveStage, stagesEverHeld } from '../store/stages-table.js';
import { getVersion, type VersionRow } from '../store/version-records.js';
import { assertPreHookPassed, runHook, type HookOutcome } from '../workspace/hooks.js';
import { hostName, resolveActor } from '../workspace/identity.js';
import type { RefPublication } from '../sync/ref-publication.js';
import type { RemoteTarget } from '../sync/remote-session.js';
import type { Repository } from './repository.js';
import { summarizeVersion, type VersionSummary } from './views.js';

/** What a promotion or rollback did, or (with dryRun) would do. The --json shape. */
export interface StageMoveResult {
  action: 'promote' | 'rollback';
  model: string;
  stage: string;
  /** The version the stage moves to. */
  version: VersionSummary;
  /** The holder before the move (null when the stage was empty). */
  previous: VersionSummary | null;
  /** True when the stage pointer moved. False: dry run, or the version already held it. */
  changed: boolean;
  dryRun: boolean;
  /** The policy verdict (an archived version is never allowed). */
  allowed: boolean;
  unmet: UnmetRule[];
  /** The rules checked, met or not (`archived`, `from:staging`, `metric:accuracy`, …). */
  checked: string[];
  /** The recorded audit event (with its seq and chain hash); null when nothing moved. */
  event: EventRecord | null;
  hooks: HookOutcome[];
  /** With --push: what the remote side wants said (a store that ignores conditional writes). */
  warnings?: string[];
}

/** What a confirmation callback is asked about (moves of the last stage only). */
export interface StageMoveQuestion {
  action: 'promote' | 'rollback';
  model: string;
  stage: string;
  version: VersionSummary;
  previous: VersionSummary | null;
}

/** Asks whether to go ahead; false aborts with nothing changed (ConflictError ABORTED, exit 4). */
export type ConfirmStageMove = (question: StageMoveQuestion) => Promise<boolean>;

/** Throws UsageError (exit 2) listing the configured stages unless `stage` is one of them. */
export function assertKnownStage(stage: string, stages: readonly string[]): void {
  if (!stages.includes(stage)) {
    const near = closest(stage, stages, 1);
    throw new UsageError('UNKNOWN_STAGE', `unknown stage '${stage}'${near.length ? ` — did you mean '${near[0]}'?` : ''} (configured stages: ${stages.join(', ')})`, {
      hint: 'stages are listed, in order, under "stages" in modelctl.json',
      data: { stage, stages: [...stages] },
    });
  }
}

/** A stage move to carry out (internal to promote and rollback). */
export interface StageMovePlan {
  action: 'promote' | 'rollback';
  stage: string;
  /** The configured stages, in order (the `from: true` rule looks one back). */
  stages: readonly string[];
  target: VersionRow;
  /** The policy rules that gate this move (a rollback to a former holder checks fewer). */
  rules: StagePolicyRules | undefined;
  reason: string | null;
  argv: string[];
  dryRun: boolean;
  /** Called before moving the last configured stage; absent: no question asked. */
  confirm?: ConfirmStageMove;
  /**
   * Compare-and-swap: the move only happens while the stage is still held by this version
   * (a rollback computed its target from that holder). Absent: any holder is replaced.
   */
  expectHolder?: string | null;
  /**
   * With --push: the remote half of the move (sync/ref-publication.ts). Its ref is written,
   * naming the move's event, after the pre-promote hook and before the local transaction;
   * put back if the local move then fails.
   */
  publication?: RefPublication;
}

/**
 * Moves a stage through every gate, in this order: policy verdict (all unmet rules → one
 * PolicyError, exit 5) → confirmation for the last stage → pre-promote hook (failure →
 * exit 5) → ONE write transaction that re-checks the policy against fresh facts and writes
 * the pointer, the stage history and the audit event together → post-promote hook
 * (failure is reported in `hooks`, the move stands). Concurrent moves serialize on the
 * transaction; each records the holder it really replaced.
 */
export async function performStageMove(repo: Repository, plan: StageMovePlan): Promise<StageMoveResult> {
  await preparePolicyChecks(plan.rules);
  const { db, settings } = repo;
  const model = plan.target.model;
  const modelId = requireModel(db, model);
  const holderId = getStageHolder(db, modelId, plan.stage)?.versionId ?? null;
  const verdict = checkPolicy(repo, plan, plan.target.id);
  const summary = (id: string | null): VersionSummary | null => {
    const row = id ? getVersion(db, id) : null;
    return row ? summarizeVersion(db, row) : null;
  };
  const base = {
    action: plan.action,
    model,
    stage: plan.stage,
    dryRun: plan.dryRun,
    allowed: verdict.allowed,
    unmet: verdict.unmet,
    checked: verdict.checked,
  };
  if (plan.expectHolder !== undefined && plan.expectHolder !== holderId) throw stageMoved(model, plan.stage);
  if (plan.dryRun || holderId === plan.target.id) {
    return { ...base, version: summary(plan.target.id) as VersionSummary, previous: summary(holderId), changed: false, event: null, hooks: [] };
  }
  if (!verdict.allowed) throw denied(plan, verdict);

  const isLastStage = settings.stages[settings.stages.length - 1] === plan.stage;
  if (isLastStage && plan.confirm) {
    const ok = await plan.confirm({ action: plan.action, model, stage: plan.stage, version: summary(plan.target.id) as VersionSummary, previous: summary(holderId) });
    if (!ok) {
      throw new ConflictError('ABORTED', `${plan.action} of ${model} to '${plan.stage}' aborted at the confirmation; nothing changed`, {
        hint: 'pass --yes to skip the question',
      });
    }
  }

  const actor = await resolveActor(repo.root);
  const host = hostName();
  const eventFor = (fromId: string | null): AuditEvent =>
    buildEvent({
      actor,
      host,
      action: plan.action,
      model,
      version: plan.target.id,
      from: fromId,
      to: plan.target.id,
      reason: plan.reason,
      argv: plan.argv,
      data: { stage: plan.stage, number: plan.target.number, fromNumber: fromId ? (getVersion(db, fromId)?.number ?? null) : null },
    });
  const hooks: HookOutcome[] = [];
  const proposed = eventFor(holderId);
  const pre = await runHook(repo.metaDir, repo.root, 'pre-promote', { ...proposed }, hookVars(proposed, plan));
  hooks.push(pre);
  assertPreHookPassed(pre);

  await plan.publication?.write(proposed);
  if (plan.publication) barrier('ref-move-written'); // the crash tests kill here: on the remote, not yet recorded
  let recorded: AuditEvent | null;
  try {
    recorded = writeTransaction(db, () => {
      // Re-read under the write lock: another process may have moved the stage or archived
      // the version while the hook ran. The event must name the holder really replaced
      // (and with --push it is already on the remote: the holder must not have changed).
      const holderNow = getStageHolder(db, modelId, plan.stage)?.versionId ?? null;
      if (plan.expectHolder !== undefined && plan.expectHolder !== holderNow) throw stageMoved(model, plan.stage);
      if (plan.publication && holderNow !== holderId) throw stageMoved(model, plan.stage);
      if (holderNow === plan.target.id) return null;
      const fresh = checkPolicy(repo, plan, plan.target.id);
      if (!fresh.allowed) throw denied(plan, fresh);
      const event = holderNow === holderId ? proposed : eventFor(holderNow);
      moveStage(db, { modelId, stage: plan.stage, versionId: plan.target.id, eventId: event.id, at: event.at });
      appendEvent(db, event);
      return event;
    });
  } catch (err) {
    await plan.publication?.undo();
    throw err;
  }
  if (recorded && plan.publication) barrier('ref-move-recorded'); // …and here: recorded, its event not yet published
  if (recorded) await plan.publication?.finish(recorded);
  if (!recorded) {
    return { ...base, version: summary(plan.target.id) as VersionSummary, previous: summary(plan.target.id), changed: false, event: null, hooks };
  }
  setInterruptNote(`the ${plan.action} stands: ${plan.target.model}@v${plan.target.number} holds ${plan.stage} (recorded before the post-promote hook ran)`);
  try {
    hooks.push(await runHook(repo.metaDir, repo.root, 'post-promote', { ...recorded }, hookVars(recorded, plan)));
  } finally {
    setInterruptNote(null);
  }
  return {
    ...base,
    version: summary(plan.target.id) as VersionSummary,
    previous: summary(recorded.from),
    changed: true,
    event: getEventRecord(db, recorded.id),
    hooks,
  };
}

/**
 * The signature checks (version-signers.ts, and behind it the parsers of signature bundles,
 * statements and provenance with their validator) are loaded only for a stage whose policy
 * requires signatures: most moves read no signature, and loading them cost a promotion
 * ~50 ms of its start-up (docs/design.md §1, Build). checkPolicy is synchronous (it runs
 * inside the write transaction), so its async callers load them first.
 */
let signatureChecks: typeof import('./version-signers.js') | undefined;

/** Loads what checkPolicy needs for `rules`; await it before checkPolicy or policyWouldAllow. */
export async function preparePolicyChecks(rules: StagePolicyRules | undefined): Promise<void> {
  if (rules?.require_signatures?.length) signatureChecks ??= await import('./version-signers.js');
}

function trustedSignersOfVersion(repo: Repository, versionId: string, names: readonly string[]): string[] {
  if (!signatureChecks) throw new Error('BUG: a policy requiring signatures was checked before preparePolicyChecks loaded the signature checks');
  return signatureChecks.trustedSignersOfVersion(repo, versionId, names);
}

/**
 * Whether the stage's full policy would let `versionId` take `stage` now, given a reason
 * (the user can always add one): what a suggestion may name without leading to exit 5.
 * Await preparePolicyChecks(repo.settings.policies[stage]) first.
 */
export function policyWouldAllow(repo: Repository, stage: string, versionId: string): boolean {
  return checkPolicy(repo, { stage, stages: repo.settings.stages, rules: repo.settings.policies[stage], reason: 'suggested' }, versionId).allowed;
}

/**
 * A stage move with --push (docs/design.md §7): on the repository's remote and here, or
 * nowhere. The verdict is checked first (exit 5 changes nothing); the remote stage must be
 * as this repository last fetched it (exit 4 otherwise, naming who moved it to what, and
 * the fix); the version's data is pushed; then performStageMove writes the remote stage
 * (compare-and-swap, naming the move's event) before its local transaction.
 */
export async function performPushedStageMove(repo: Repository, plan: StageMovePlan, target: RemoteTarget): Promise<StageMoveResult> {
  // Loaded here, not at the top: a move without --push opens no remote (docs/design.md §1, Build).
  const { withRemoteSession } = await import('../sync/remote-session.js');
  return withRemoteSession(repo, target, { create: true, probe: true }, async (session) => {
    // Compare-and-swap needs a store that honours conditional writes; on one that does
    // not (s3rver), two racing moves could both "win": say so on every such move.
    const warnings = session.concurrencyCaveat ? [session.concurrencyCaveat] : [];
    const dry = await performStageMove(repo, { ...plan, dryRun: true, confirm: undefined });
    if (!dry.allowed) throw denied(plan, dry);
    const ref = { kind: 'stage' as const, model: plan.target.model, name: plan.stage };
    const publication = await session.protocol.openRefPublication(repo, ref, plan.target.id, plan.argv);
    const targetNow = getVersion(repo.db, plan.target.id) ?? plan.target; // pushing may have renumbered it
    if (dry.previous?.id === targetNow.id) {
      // Held here already: publish that (unpushed) local move unless the remote agrees.
      if (publication.remoteVersion !== targetNow.id) await session.protocol.push(repo, { refs: [`${targetNow.model}@${targetNow.id}`], argv: plan.argv });
      return { ...dry, dryRun: false, warnings };
    }
    return { ...(await performStageMove(repo, { ...plan, target: targetNow, publication })), warnings };
  });
}

/** The verdict for moving `plan.stage` to the version, from facts read now. */
function checkPolicy(repo: Repository, plan: Pick<StageMovePlan, 'stage' | 'stages' | 'rules' | 'reason'>, versionId: string): PolicyVerdict {
  const { db } = repo;
  assertPoliciesNameStages(repo.settings.policies, repo.settings.stages);
  const row = getVersion(db, versionId);
  const metrics = versionKeyValues(db, 'metrics', versionId);
  return evaluatePolicy(plan.rules, {
    stage: plan.stage,
    stages: plan.stages,
    archived: row?.archived ?? false,
    metrics,
    heldStages: stagesEverHeld(db, versionId),
    gitDirty: row?.gitDirty ?? null,
    reason: plan.reason,
    signedBy: plan.rules?.require_signatures?.length ? trustedSignersOfVersion(repo, versionId, plan.rules.require_signatures) : [],
  });
}

function denied(plan: StageMovePlan, verdict: PolicyVerdict): PolicyError {
  return policyDenial({
    action: plan.action,
    model: plan.target.model,
    number: plan.target.number,
    versionId: plan.target.id,
    stage: plan.stage,
    unmet: verdict.unmet,
    checked: verdict.checked,
  });
}

/**
 * The PolicyError (exit 5) for a denied move, listing every unmet rule in the message and
 * in `data.unmet`. Exported so a dry run's caller can turn a "denied" verdict into the
 * same exit status as the real attempt.
 */
export function policyDenial(d: {
  action: 'promote' | 'rollback';
  model: string;
  number: number;
  versionId: string;
  stage: string;
  unmet: UnmetRule[];
  checked: string[];
}): PolicyError {
  const ref = `${d.model}@v${d.number}`;
  const lines = d.unmet.map((u) => `  - ${u.rule}: ${u.message}`).join('\n');
  const onlyArchived = d.unmet.length === 1 && d.unmet[0].rule === 'archived';
  return new PolicyError(
    onlyArchived ? 'VERSION_ARCHIVED' : 'POLICY_DENIED',
    `${d.action} of ${ref} to '${d.stage}' denied: ${d.unmet.length} unmet rule${d.unmet.length === 1 ? '' : 's'}:\n${lines}`,
    {
      hint: onlyArchived
        ? `unarchive it first: \`modelctl unarchive ${ref}\``
        : `see policies.${d.stage} in modelctl.json; \`modelctl promote ${ref} --to ${d.stage} --dry-run\` shows the verdict`,
      data: { model: d.model, version: d.versionId, stage: d.stage, unmet: d.unmet, checked: d.checked },
    },
  );
}

function stageMoved(model: string, stage: string): ConflictError {
  return new ConflictError('STAGE_MOVED', `stage '${stage}' of ${model} was moved by someone else meanwhile; nothing changed`, {
    hint: `look at \`modelctl history ${model} --stage ${stage}\` and run the command again`,
  });
}

function hookVars(e: AuditEvent, plan: StageMovePlan): Record<string, string | number | null> {
  return {
    action: plan.action,
    model: e.model,
    version: e.version,
    number: plan.target.number,
    ref: `${plan.target.model}@v${plan.target.number}`,
    stage: plan.stage,
    from: e.from ?? '',
    from_number: (e.data.fromNumber as number | null) ?? '',
    to: e.to,
    reason: e.reason ?? '',
    actor: e.actor,
    event_id: e.id,
  };
}
