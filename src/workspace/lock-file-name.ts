/**
 * The name of the lock file (docs/design.md §14), apart from lock-file.ts so that status can
 * tell whether there is one without loading the lock's reader and its validator.
 */
export const LOCK_FILE_NAME = 'modelctl.lock';
