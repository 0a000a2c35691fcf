/** What `verify` and `verify --remote` report (shared by both verbs, so neither imports the other). */

export type VerifyProblemKind =
  | 'missing-object'
  | 'corrupt-object'
  | 'missing-manifest'
  | 'corrupt-manifest'
  | 'unindexed-object'
  /** A manifest on disk the journal records as a version, missing from the index: the index is behind the store. */
  | 'unindexed-version'
  /** A manifest on disk no index row and no journal line knows: left by a commit killed before it recorded its version. */
  | 'unrecorded-manifest'
  /** The journal holds changes the index lost (restored from an older copy, a lost WAL). */
  | 'index-behind'
  /** SQLite's quick_check found the index file damaged. */
  | 'index-corrupt';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** Object digest or version id. */
  id: string;
  detail: string;
  /** A corrupt object: where it was moved (`.modelctl/quarantine/…`), so a pull brings it again. */
  quarantined?: string;
}

export interface VerifyResult {
  ok: boolean;
  objectsChecked: number;
  bytesChecked: number;
  manifestsChecked: number;
  versionsChecked: number;
  problems: VerifyProblem[];
  tempFilesRemoved: number;
  /**
   * Objects of the named version not checked because they are not in the store and a remote
   * holds the version (fetched, or pulled into a folder that already held the files): its
   * metadata is here, its bytes there. 0 for a whole-store verify.
   */
  remoteOnly: number;
  /** `model@vN` of the versions a missing or corrupt object belongs to: what to pull again. */
  affected: string[];
  /**
   * Of `affected`, those no pull can repair: no version a remote is known to hold has the
   * damaged files. Their bytes come back only from an intact copy of the files (committed
   * again) or a backup of the store.
   */
  withoutRemote: string[];
}
