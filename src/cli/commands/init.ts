import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { InitResult, RemoteCheck } from '../../api/init.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { action } from '../action.js';
import type { CommandContext } from '../action.js';
import type { InitAnswers, InitFlags, WizardServices } from '../wizard/init-wizard.js';

/** init's --json document: the api result plus what the remote check found. */
export type InitCommandResult = InitResult & { remoteCheck: RemoteCheck | null; answers: InitAnswers };

/** `modelctl init`: create the repository, with a wizard on a terminal. */
export function registerInit(program: Command): Command {
  return program
    .command('init')
    .description('create .modelctl/ (store and index) and modelctl.json here; asks on a terminal, or takes flags')
    .option('-y, --yes', 'no questions: flags and defaults only')
    .option('--template <t>', 'settings template for the model\'s default paths: default, pytorch, huggingface, sklearn')
    .option('--model <name>', 'declare a model to track (e.g. fraud-detector)')
    .option('--paths <globs...>', 'its files: paths, folders, globs (default: from the template)')
    .option('--params <file>', 'its params file, JSON or YAML (default: the template\'s, when it exists)')
    .option('--metrics <file>', 'its metrics file, JSON or YAML (default: the template\'s, when it exists)')
    .option('--data <path...>', 'its training data: files, folders or URIs')
    .option('--stages <list>', 'stages in promotion order, comma-separated (default: staging,production)')
    .option('--remote <url>', 'default remote: s3://bucket/prefix or a folder')
    .option('--endpoint <url>', 'S3-compatible endpoint of the remote (MinIO, Ceph, R2…)')
    .option('--region <region>', 'region of the remote\'s bucket')
    .addOption(new Option('--ci <provider>', 'CI pipeline to write').choices(['github', 'gitlab', 'none']))
    // Both forms, so the value stays undefined unless typed and the wizard knows to ask.
    .option('--npm-scripts', 'add model:* scripts to an existing package.json (the default)')
    .option('--no-npm-scripts', 'do not add model:* scripts to package.json')
    .option('--no-remote-check', 'save the remote without testing that it answers')
    .addHelpText(
      'after',
      `
Without --yes, on a terminal, init asks for everything it needs and previews what your
paths match. With --yes (and in CI, with --json or without a terminal) it asks nothing.
An unreachable remote is reported (a warning with --yes) but still saved: push reports
the real error later. modelctl.json, CI files and package.json scripts that exist are
never overwritten.

Examples:
  modelctl init
  modelctl init --yes
  modelctl init --yes --model fraud --template pytorch --metrics metrics.json --data data/train.csv
  modelctl init --yes --model fraud --paths 'model/*.onnx' --remote s3://ml-registry/fraud --ci github
  modelctl init --yes --remote s3://models --endpoint http://localhost:9000 --region us-east-1`,
    )
    .action(
      action<InitFlags>(async (ctx, opts) => {
        const api = await import('../../api/init.js');
        const wizard = await import('../wizard/init-wizard.js');
        const { listPresets } = await import('../../workspace/templates.js');
        const configExists = existsSync(join(ctx.cwd, 'modelctl.json'));
        const services: WizardServices = {
          root: ctx.cwd,
          presets: listPresets(),
          templateDefaults: (t) => {
            const s = api.modelSettingsFromTemplate(ctx.cwd, t);
            return { paths: s.paths ?? [], params: s.params, metrics: s.metrics, data: s.data };
          },
          previewPaths: (patterns) => api.previewPaths(ctx.cwd, patterns),
          checkRemote: (spec) => api.checkRemote(spec, { cwd: ctx.cwd }),
          hasPackageJson: existsSync(join(ctx.cwd, 'package.json')),
        };

        let answers: InitAnswers;
        let remoteCheck: RemoteCheck | null = null;
        if (ctx.canPrompt(opts.yes) && !configExists) {
          const { inquirerAsk } = await import('../wizard/inquirer-ask.js');
          const outcome = await wizard.runInitWizard(await inquirerAsk(), services, opts);
          if (!outcome) throw new InterruptedError('cancelled; nothing was written');
          ({ answers, remoteCheck } = outcome);
        } else {
          assertModelFlags(opts);
          if (configExists) warnIgnoredSettings(ctx, opts);
          answers = wizard.answersFromFlags(opts, services);
          if (answers.remote && opts.remoteCheck !== false && !configExists) {
            remoteCheck = await services.checkRemote({
              url: answers.remote,
              ...(answers.endpoint ? { endpoint: answers.endpoint } : {}),
              ...(answers.region ? { region: answers.region } : {}),
            });
            if (!remoteCheck.reachable) {
              ctx.out.warn(`remote ${remoteCheck.displayUrl} did not answer (${remoteCheck.problem?.message ?? 'unknown problem'}); saved anyway`);
              if (remoteCheck.problem?.hint) ctx.out.warn(remoteCheck.problem.hint);
            }
          }
        }
        const result: InitCommandResult = { ...api.init(wizard.answersToInitOptions(answers, ctx.cwd)), remoteCheck, answers };
        ctx.out.result(result, (r) => renderInit(r, ctx));
      }),
    );
}

const MODEL_FLAGS = ['paths', 'params', 'metrics', 'data'] as const;

/** --paths and friends describe the --model (--endpoint the --remote); alone they would silently do nothing. */
function assertModelFlags(opts: InitFlags): void {
  if (!opts.remote && (opts.endpoint || opts.region)) {
    throw new UsageError('REMOTE_OPTION_WITHOUT_REMOTE', `--${opts.endpoint ? 'endpoint' : 'region'} describes a remote: pass --remote <url> too`, {
      hint: 'e.g. modelctl init --yes --remote s3://models --endpoint http://localhost:9000',
    });
  }
  if (opts.model !== undefined) return;
  const given = MODEL_FLAGS.filter((f) => opts[f] !== undefined);
  if (given.length) {
    throw new UsageError('MODEL_FLAG_WITHOUT_MODEL', `--${given[0]} describes a model: pass --model <name> too`, {
      hint: 'e.g. modelctl init --yes --model fraud --paths model/',
    });
  }
}

function warnIgnoredSettings(ctx: CommandContext, opts: InitFlags): void {
  const ignored = (['template', 'model', 'stages', 'remote', 'endpoint', 'region', ...MODEL_FLAGS] as const).filter((f) => opts[f] !== undefined);
  if (ignored.length) {
    ctx.out.warn(
      `modelctl.json exists, so ${ignored.map((f) => `--${f}`).join(', ')} ${ignored.length === 1 ? 'was' : 'were'} not applied; edit it, or use \`modelctl config set --shared\` / \`modelctl remote add\``,
    );
  }
}

function renderInit(r: InitCommandResult, ctx: CommandContext): string {
  const c = ctx.out.color;
  const lines = [r.created ? `Initialized modelctl repository in ${r.metaDir}` : `Reinitialized existing modelctl repository in ${r.metaDir}`];
  for (const f of r.files) {
    if (f.path === 'modelctl.json' && f.action === 'created') lines.push('Created modelctl.json (commit it to git)');
    else if (f.path === '.gitignore' && f.action !== 'unchanged') lines.push('Added .modelctl/ to .gitignore');
    else if (f.path === 'package.json' && f.action === 'updated') lines.push(`Added npm scripts: ${r.npmScripts.join(', ')}`);
    else if (f.action === 'created' && f.path !== '.gitignore') lines.push(`Created ${f.path}`);
    else if (f.action === 'skipped') lines.push(c.yellow(`Skipped ${f.path}: ${f.detail ?? ''}`));
  }
  if (r.remoteCheck && !r.remoteCheck.reachable) lines.push(c.yellow(`Remote ${r.remoteCheck.displayUrl} saved, but it did not answer: run \`modelctl push\` once it does`));
  // Next steps follow what modelctl.json declares (a clone's file names its models already),
  // not only what was answered here.
  const model = r.declared.models.length === 1 ? r.declared.models[0] : r.configCreated ? r.answers.model : undefined;
  lines.push('', c.bold('Next:'));
  // A clone: the team's versions are on the remote modelctl.json names, not here yet.
  if (!r.configCreated && r.declared.remotes.length) {
    lines.push('  modelctl fetch                       # the versions, tags and stages pushed so far');
    // Not `@production`: nothing may have been promoted yet, and `ls` shows what was.
    lines.push('  modelctl ls                          # the models, their latest versions and stages');
    lines.push(`  ${`modelctl pull ${model ?? r.declared.models[0] ?? '<model>'}@latest`.padEnd(36)} # or @<stage> once a version is promoted`);
  }
  if (model) lines.push(`  modelctl commit ${model} -m "first version"`);
  else if (r.declared.models.length > 1) for (const m of r.declared.models) lines.push(`  modelctl commit ${m} -m "first version"`);
  else lines.push('  modelctl commit <model> <paths…> -m "first version"');
  if (r.answers.remote || r.declared.remotes.length) lines.push('  modelctl push');
  lines.push(`  modelctl promote ${model ?? r.declared.models[0] ?? '<model>'}@latest --to ${r.declared.stages[0] ?? 'staging'}`);
  return lines.join('\n');
}
