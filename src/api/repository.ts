/**
 * The open repository every api verb works on. It is defined in workspace/repository.ts,
 * below the sync layer (docs/design.md §1), so that the sync engines and the verbs share
 * one; the verbs import it from here.
 */
export { openRepository, withRepository, type CommonOptions, type Repository } from '../workspace/repository.js';
