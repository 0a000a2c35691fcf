#!/usr/bin/env node
// `npm run demo`: the main job of modelctl end to end, on a temporary repository.
// Each step prints the command it runs, then its output. Exits non-zero if a step fails.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/modelctl.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'modelctl-demo-'));
const repo = join(work, 'training-repo');
mkdirSync(repo);
const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);

function step(title) {
  console.log(`\n${bold(`== ${title}`)}`);
}

function run(args, { cwd = repo, expect = 0 } = {}) {
  console.log(`${bold('$')} modelctl ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, stdio: 'inherit', env: process.env });
  if (r.status !== expect) {
    console.error(`demo: step failed (exit ${r.status}, expected ${expect}); the repository is left at ${repo}`);
    process.exit(1);
  }
}

function write(rel, content) {
  const p = join(repo, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
}

try {
  step('Create a repository');
  run(['init', '--yes']);

  step('A training run produced a model, its params, metrics and a data set');
  write('data/train.csv', 'amount,label\n12.5,0\n990.0,1\n');
  write('params.yaml', 'learning_rate: 0.001\nepochs: 12\noptimizer:\n  name: adam\n');
  write('metrics.json', JSON.stringify({ accuracy: 0.931, auc: 0.962 }));
  write('model/weights.bin', randomBytes(6 * 1024 * 1024));
  write('model/config.json', JSON.stringify({ layers: 4, hidden: 256 }));
  // Declare the model once, so later commands know its files.
  writeFileSync(
    join(repo, 'modelctl.json'),
    JSON.stringify(
      {
        models: { fraud: { paths: ['model'], params: 'params.yaml', metrics: 'metrics.json', data: ['data/train.csv'] } },
        stages: ['staging', 'production'],
        policies: { production: { from: true, metrics: { accuracy: '>= 0.92' }, require_reason: true } },
      },
      null,
      2,
    ),
  );

  step('Commit it as version 1 (files hashed into the store, lineage recorded)');
  run(['commit', 'fraud', '-m', 'baseline on October data']);

  step('Committing the same thing again creates nothing');
  run(['commit', 'fraud', '-m', 'same again']);

  step('A second run changes the weights and improves the metrics');
  appendFileSync(join(repo, 'model/weights.bin'), randomBytes(1024 * 1024));
  write('metrics.json', JSON.stringify({ accuracy: 0.944, auc: 0.97 }));
  run(['status']);
  run(['commit', 'fraud', '-m', 'more epochs']);
  run(['status']);

  step('History and details');
  run(['log', 'fraud']);
  run(['show', 'fraud@v2']);
  run(['ls']);

  step('Compare the two versions and trace their lineage');
  run(['diff', 'fraud@v1', 'fraud@v2']);
  run(['lineage', 'fraud@v2']);

  step('Tag, then promote through the stages (production has a policy: from staging, accuracy >= 0.92, a reason)');
  run(['tag', 'fraud@v1', '1.0.0', '-m', 'first release']);
  run(['promote', 'fraud@1.0.0', '--to', 'staging']);
  run(['promote', 'fraud@v2', '--to', 'production', '--yes', '--reason', 'skipping staging'], { expect: 5 });
  run(['promote', 'fraud@1.0.0', '--to', 'production', '--yes', '--reason', 'baseline goes live']);
  run(['promote', 'fraud@v2', '--to', 'staging']);
  run(['promote', 'fraud@staging', '--to', 'production', '--yes', '--reason', 'better AUC on the holdout']);
  run(['ls']);

  step('Roll production back, and read the verified audit trail');
  run(['rollback', 'fraud', '--stage', 'production', '--reason', 'latency regression', '--yes']);
  run(['history', 'fraud', '--verify']);

  step('Share through a registry (a folder here; s3://bucket/prefix works the same)');
  const registry = join(work, 'registry');
  run(['remote', 'add', 'origin', registry, '--default']);
  run(['push']);

  step('Pull the production version somewhere else, with no repository (as a CI deploy job would)');
  const deploy = join(work, 'deploy');
  mkdirSync(deploy);
  run(['pull', 'fraud@production', '--remote', registry, '--out', join(deploy, 'model')], { cwd: deploy });

  step('Check version 1 out into a folder (every byte verified)');
  run(['checkout', 'fraud@v1', '--out', join(work, 'v1-checkout')]);

  step('Verify the whole store');
  run(['verify']);

  console.log(`\n${bold('Demo finished: every step passed.')}`);
} finally {
  if (!process.env.MODELCTL_DEMO_KEEP) rmSync(work, { recursive: true, force: true });
}
