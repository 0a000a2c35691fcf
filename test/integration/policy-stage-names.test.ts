/**
 * A policy written under a name that is not a configured stage (`prod` for `production`)
 * gated nothing: every promotion to `production` passed in silence. It is a misconfigured
 * gate, so it fails loudly (exit 2, INVALID_POLICY, naming the stage it probably meant).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeFile } from '../helpers/temp-repo.js';

function repoWithPolicies(policies: Record<string, unknown>): string {
  const repo = tempDir();
  expect(runCli(repo, ['init', '--yes']).code).toBe(0);
  writeFileSync(join(repo, 'modelctl.json'), JSON.stringify({ models: { fraud: { paths: ['model/'] } }, stages: ['staging', 'production'], policies }, null, 2));
  writeFile(repo, 'model/w.bin', 'weights\n');
  expect(runCli(repo, ['commit', 'fraud', '-m', 'one', '--metric', 'accuracy=0.5']).code).toBe(0);
  return repo;
}

describe('policies name configured stages', () => {
  it('refuses every stage move while a policy names no stage, and suggests the stage meant', () => {
    const repo = repoWithPolicies({ prod: { require_reason: true, metrics: { accuracy: '>= 0.99' } } });
    for (const args of [
      ['promote', 'fraud@v1', '--to', 'production', '--yes', '--json'],
      ['promote', 'fraud@v1', '--to', 'production', '--dry-run', '--json'],
      ['promote', 'fraud@v1', '--to', 'staging', '--json'],
    ]) {
      const r = runCli(repo, args);
      expect(r.code).toBe(2);
      expect(r.error().code).toBe('INVALID_POLICY');
      expect(r.error().message).toContain("'production'");
    }
    expect(runCli(repo, ['ls', '--json']).json().models[0].stages).toEqual({});
  });

  it('applies the same policy once it is under the stage name', () => {
    const repo = repoWithPolicies({ production: { require_reason: true, metrics: { accuracy: '>= 0.99' } } });
    const denied = runCli(repo, ['promote', 'fraud@v1', '--to', 'production', '--yes', '--json']);
    expect(denied.code).toBe(5);
    expect(runCli(repo, ['promote', 'fraud@v1', '--to', 'staging', '--json']).code).toBe(0);
  });
});
