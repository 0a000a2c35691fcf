import { readChainHead, verifyEventChain, type ChainBreak, type ChainHead } from '../store/events-table.js';
import type { Repository } from './repository.js';

/** Whether the local audit chain holds, and where it first breaks when it does not. */
export interface AuditChainStatus {
  verified: boolean;
  /** The first bad event (docs/design.md §8), null when the chain holds. */
  firstBad: ChainBreak | null;
  head: ChainHead | null;
}

/** Checks the whole local audit chain of an open repository (never throws for a break: it reports it). */
export function auditChainStatusOf(repo: Repository): AuditChainStatus {
  const firstBad = verifyEventChain(repo.db);
  return { verified: firstBad === null, firstBad, head: readChainHead(repo.db) };
}
