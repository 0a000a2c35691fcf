/** Helpers shared by test/integration/run.test.ts and its *.full.test.ts sibling. */

import { mc } from '../integration/repro-helpers.js';

export const show = (root: string, ref = 'tiny') => mc(root, 'show', ref).json();

export const versionCount = (root: string) => {
  const r = mc(root, 'log', 'tiny');
  return r.code === 0 ? r.json().versions.length : 0;
};
