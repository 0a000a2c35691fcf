import { IntegrityError } from '../errors.js';

/**
 * A remote document fetch refused to use (malformed, hostile, truncated, or naming what it
 * may not): nothing from it was stored. The `rejected[]` entries of fetch's --json.
 */
export interface RejectedDocument {
  key: string;
  /** The integrity code (INVALID_REMOTE_DOCUMENT, MANIFEST_ID_MISMATCH, …). */
  code: string;
  reason: string;
}

/** Collects the documents one fetch rejects (docs/design.md §7: one bad document never blocks a team). */
export class Rejections {
  readonly list: RejectedDocument[] = [];

  /** Records `key` as rejected. */
  reject(key: string, code: string, reason: string): void {
    this.list.push({ key, code, reason });
  }

  /**
   * Runs a parse of a document read from `key`: an IntegrityError it throws (the parsers
   * of core/ throw one for every malformed or hostile document) rejects the document and
   * gives null; any other failure (network, a bug) propagates.
   */
  parse<T>(key: string, parse: () => T): T | null {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      this.reject(key, err.code, err.message);
      return null;
    }
  }
}
