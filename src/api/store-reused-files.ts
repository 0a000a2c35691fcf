import { ConflictError } from '../errors.js';
import { printable } from '../core/names.js';
import { hasObjectRow } from '../store/version-records.js';
import type { CheckoutPlan } from './checkout-engine.js';
import { hashWorkingFiles } from './file-hashing.js';
import type { Repository } from './repository.js';

/**
 * Stores the bytes of the files a planned checkout leaves in place (they already match the
 * version) that the store lacks, the way commit stores a file (hashWorkingFiles with
 * `store: true`: copied in the hashing pass, chunk map indexed), each checked against the
 * version's digest. A pull that reuses such files then leaves the version complete in the
 * store, so export, verify and a later checkout of it need no remote. A file that changed
 * since it was planned → ConflictError FILE_CHANGED (4). Returns how many were stored.
 */
export function storeReusedFiles(repo: Repository, plan: CheckoutPlan): number {
  const lacking = plan.steps.filter((s) => !s.write && !(repo.store.hasObject(s.file.digest) && hasObjectRow(repo.db, s.file.digest)));
  if (lacking.length === 0) return 0;
  const hashed = hashWorkingFiles(repo, lacking.map((s) => ({ abs: s.dest, rel: s.path })), { store: true });
  hashed.forEach((h, i) => {
    if (h.digest !== lacking[i].file.digest) {
      throw new ConflictError('FILE_CHANGED', `'${printable(lacking[i].path)}' changed while the pull was running`, {
        hint: 'wait for the program writing it to finish, then run the pull again',
      });
    }
  });
  return lacking.length;
}
