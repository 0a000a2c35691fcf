// Limits of whole-object reads by key family (the remote layout of docs/design.md §6).
/**
 * The most bytes a whole-object read of `key` accepts (docs/design.md §9): a chunk is at
 * most 64 MiB (what a chunk list may claim), a chunk list at most 10 million entries, a
 * manifest at most 256 MiB; every other document is small. A bigger object is hostile
 * content and is never read into memory.
 */
export function maxObjectBytes(key: string): number {
  if (key.startsWith('chunks/')) return 64 * 1024 * 1024;
  if (key.startsWith('files/')) return 1024 * 1024 * 1024;
  if (key.startsWith('versions/')) return 256 * 1024 * 1024;
  return 16 * 1024 * 1024;
}
