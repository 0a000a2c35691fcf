/**
 * The modelctl Node API. Every function takes one options object (with an optional
 * `cwd`) and returns the same plain object the CLI prints with --json. Errors are
 * ModelctlError subclasses with a stable `code` and the CLI's `exitCode`.
 */
export * from './errors.js';
export {
  init,
  checkRemote,
  previewPaths,
  modelSettingsFromTemplate,
  CI_PROVIDERS,
  type InitOptions,
  type InitResult,
  type InitFileChange,
  type CiProvider,
  type RemoteCheck,
  type PathPreview,
} from './api/init.js';
export { card, type CardOptions, type CardResult, type CardFormatters } from './api/card.js';
export { exportBundle, type ExportOptions, type ExportResult } from './api/bundle-export.js';
export { importBundle, type ImportOptions, type ImportResult } from './api/bundle-import.js';
export { commit, type CommitOptions, type CommitResult } from './api/commit.js';
export { status, type StatusOptions, type StatusResult, type ModelStatus } from './api/status.js';
export { log, type LogOptions, type LogResult, type LogEntry } from './api/log.js';
export { ls, type LsOptions, type LsResult, type ModelListing } from './api/ls.js';
export { show, type ShowOptions, type ShowResult } from './api/show.js';
export type { TensorFileView, TensorRow } from './api/tensor-tables.js';
export type { TensorDiff, TensorDiffCounts, TensorFileDiff, TensorParameterChange } from './api/tensor-diff.js';
export type { TensorSummaryRow, TensorTotals } from './store/tensor-summaries.js';
export { bufferSource, type ByteSource } from './formats/byte-source.js';
export { readTensorHeader, formatByName, summarizeHeader } from './formats/read-header.js';
export type { ReadContext, TensorFormat, TensorHeader, TensorInfo, TensorSegment, TensorSignature, TensorSummary } from './formats/tensor-header.js';
export { checkout, type CheckoutOptions, type CheckoutResult } from './api/checkout.js';
export { run, type RunOptions, type RunResult } from './api/run.js';
export { reproduce, type ReproduceOptions, type ReproduceResult, type ReproducedData } from './api/reproduce.js';
export { restoreLocked, type RestoreLockOptions, type RestoreLockResult } from './api/lock-restore.js';
export type { LockUpdate } from './api/lock-update.js';
export type { LockStatus, LockedModelStatus } from './api/lock-status.js';
export type { RunLineage, PeakMemory } from './core/manifest.js';
export { verify, assertVerified, type VerifyOptions, type VerifyResult, type VerifyProblem } from './api/verify.js';
export { rebuildIndex, type RebuildResult } from './api/rebuild-index.js';
export { gc, type GcOptions, type GcResult } from './api/gc.js';
export { configGet, configSet, configList, type ConfigEntry } from './api/config.js';
export { tag, deleteTag, tags, type TagOptions, type TagResult, type DeleteTagOptions, type DeleteTagResult, type TagsResult, type TagListing } from './api/tag.js';
export { promote, checkStage, type PromoteOptions } from './api/promote.js';
export { rollback, type RollbackOptions } from './api/rollback.js';
export type { StageMoveResult, StageMoveQuestion, ConfirmStageMove } from './api/stage-move.js';
export { archive, unarchive, type ArchiveOptions, type ArchiveResult } from './api/archive.js';
export { history, type HistoryOptions, type HistoryResult } from './api/history.js';
export { diff, type DiffOptions, type DiffResult } from './api/diff.js';
export { lineage, type LineageOptions, type LineageResult } from './api/lineage.js';
export type { EventRecord } from './store/history-queries.js';
export type { UnmetRule, StagePolicyRules } from './core/policy.js';
export type { LineageNode, LineageEdge } from './core/lineage-graph.js';
export type { CommonOptions } from './api/repository.js';
export type { VersionSummary } from './api/views.js';
export type { VersionManifest, ManifestFile, Lineage, DataInput } from './core/manifest.js';
export type { AuditEvent } from './core/events.js';
export { parseRef, type ParsedRef } from './core/refs.js';
export { CHUNKING } from './store/gear.js';
export { push, type PushOptions, type PushResult } from './api/push.js';
export { fetch, type FetchOptions, type FetchResult, type ModelFetch, type RejectedDocument } from './api/fetch.js';
export { pull, type PullOptions, type PullResult } from './api/pull.js';
export { remoteAdd, remoteList, remoteRemove, type RemoteAddOptions, type RemoteEntry } from './api/remote-manage.js';
export { remoteStatus, type RemoteStatusOptions, type RemoteStatusResult, type RemoteStatus, type ModelRemoteStatus } from './api/remote-status.js';
export { verifyRemote, type VerifyRemoteOptions } from './api/verify-remote.js';
export type { TransferProgress, ProgressListener } from './api/push.js';
export type { RemoteTarget } from './sync/remote-session.js';
export { sign, type SignOptions, type VersionSigningResult } from './api/sign.js';
export { attest, type AttestOptions } from './api/attest.js';
export { verifySignatures, assertSignaturesVerified, type VerifySignaturesOptions, type VerifySignaturesResult, type SignatureCheck } from './api/verify-signatures.js';
export { verifySignature, type VerifySignatureOptions, type VerifySignatureResult } from './api/verify-signature.js';
export { bom, type BomOptions, type BomResult } from './api/bom.js';
