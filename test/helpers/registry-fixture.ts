/**
 * A small registry to serve in tests: two models (one namespaced), versions with params,
 * metrics and a data input, a fine-tune (parent lineage), tags, promotions and a rollback.
 */
import { commit } from '../../src/api/commit.js';
import { promote } from '../../src/api/promote.js';
import { rollback } from '../../src/api/rollback.js';
import { tag } from '../../src/api/tag.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init } from '../../src/api/init.js';
import { pseudoRandomBytes, writeFile } from './temp-repo.js';

/** What the fixture holds, for assertions. */
export interface RegistryFixture {
  root: string;
  /** fraud's versions' accuracy, by number. */
  accuracy: Record<number, number>;
  /** Bytes of model/weights.bin in fraud@v3. */
  weightsV3: Buffer;
  /** Removes the repository (the fixture outlives single tests, so it is not in tempDir's list). */
  remove(): void;
}

/** Builds the fixture repository (fraud v1–v4, team/ranker v1 fine-tuned from fraud@v2). */
export async function buildRegistryFixture(): Promise<RegistryFixture> {
  const root = mkdtempSync(join(tmpdir(), 'modelctl-serve-fixture-'));
  init({ cwd: root });
  writeFile(root, 'data/train.csv', 'a,b\n1,2\n');
  const accuracy: Record<number, number> = { 1: 0.81, 2: 0.93, 3: 0.88, 4: 0.9 };
  let weightsV3 = Buffer.alloc(0);
  for (let n = 1; n <= 4; n++) {
    const weights = pseudoRandomBytes(300_000 + n * 1000, n);
    if (n === 3) weightsV3 = weights;
    writeFile(root, 'model/weights.bin', weights);
    writeFile(root, 'model/config.json', JSON.stringify({ layers: n }));
    await commit({
      cwd: root,
      model: 'fraud',
      paths: ['model/'],
      message: `train run ${n}`,
      params: [`lr=0.0${n}`, `epochs=${n * 10}`],
      metrics: [`accuracy=${accuracy[n]}`, `loss=${(1 - accuracy[n]).toFixed(3)}`],
      data: ['data/train.csv'],
    });
  }
  await tag({ cwd: root, ref: 'fraud@v1', name: 'baseline' });
  await promote({ cwd: root, ref: 'fraud@v2', to: 'staging', reason: 'best so far' });
  await promote({ cwd: root, ref: 'fraud@v2', to: 'production', reason: 'ship it' });
  await promote({ cwd: root, ref: 'fraud@v3', to: 'staging' });
  await promote({ cwd: root, ref: 'fraud@v3', to: 'production', reason: 'newer' });
  await rollback({ cwd: root, model: 'fraud', stage: 'production', reason: 'latency regression' });
  writeFile(root, 'ranker/head.bin', pseudoRandomBytes(5000, 99));
  await commit({ cwd: root, model: 'team/ranker', paths: ['ranker/'], message: 'fine-tune', parent: 'fraud@v2', metrics: ['ndcg=0.71'] });
  return { root, accuracy, weightsV3, remove: () => rmSync(root, { recursive: true, force: true }) };
}
