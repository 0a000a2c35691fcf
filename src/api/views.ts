import type { Database } from '../store/index-db.js';
import { stagesOfVersion, tagsOfVersion, type VersionRow } from '../store/version-records.js';

/** A version as every command reports it (the --json shape; fields are only ever added). */
export interface VersionSummary {
  id: string;
  shortId: string;
  model: string;
  number: number;
  /** `<model>@v<N>` */
  ref: string;
  createdAt: string;
  author: string;
  message: string;
  fileCount: number;
  totalSize: number;
  parent: string | null;
  gitCommit: string | null;
  gitDirty: boolean | null;
  archived: boolean;
  tags: string[];
  stages: string[];
}

/** Length of the id prefix shown to people (≥ 7 so it resolves as a reference). */
export const SHORT_ID_LENGTH = 12;

/** The summary of a version row, with its current tags and stages. */
export function summarizeVersion(db: Database, v: VersionRow): VersionSummary {
  return summaryOf(v, tagsOfVersion(db, v.id), stagesOfVersion(db, v.id));
}

/** The summary of a version row whose tags and stages were read already (many at once). */
export function summaryOf(v: VersionRow, tags: string[], stages: string[]): VersionSummary {
  return {
    id: v.id,
    shortId: v.id.slice(0, SHORT_ID_LENGTH),
    model: v.model,
    number: v.number,
    ref: `${v.model}@v${v.number}`,
    createdAt: v.createdAt,
    author: v.author,
    message: v.message,
    fileCount: v.fileCount,
    totalSize: v.totalSize,
    parent: v.parentId,
    gitCommit: v.gitCommit,
    gitDirty: v.gitDirty,
    archived: v.archived,
    tags,
    stages,
  };
}
