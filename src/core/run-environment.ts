import { redactEnvironment } from './redact.js';

/**
 * Environment variables `modelctl run` records (docs/design.md §14): those that change what a
 * training run computes or how — locale and time zone, interpreter settings, seeds, thread
 * counts, GPU selection and determinism switches, offline switches of model hubs. Nothing
 * machine- or person-specific (PATH, HOME, USER) and no credentials; `run.env` in
 * modelctl.json adds names, and every value still goes through redactEnvironment.
 */
export const RUN_ENV_ALLOWLIST: readonly string[] = [
  'TZ',
  'LANG',
  'LC_ALL',
  'LC_NUMERIC',
  'NODE_ENV',
  'NODE_OPTIONS',
  'PYTHONHASHSEED',
  'PYTHONPATH',
  'PYTHONUNBUFFERED',
  'VIRTUAL_ENV',
  'CONDA_DEFAULT_ENV',
  'SEED',
  'RANDOM_SEED',
  'OMP_NUM_THREADS',
  'MKL_NUM_THREADS',
  'OPENBLAS_NUM_THREADS',
  'NUMEXPR_NUM_THREADS',
  'TF_NUM_INTRAOP_THREADS',
  'TF_NUM_INTEROP_THREADS',
  'TF_DETERMINISTIC_OPS',
  'TF_CUDNN_DETERMINISTIC',
  'TF_ENABLE_ONEDNN_OPTS',
  'CUDA_VISIBLE_DEVICES',
  'CUBLAS_WORKSPACE_CONFIG',
  'PYTORCH_CUDA_ALLOC_CONF',
  'HF_HUB_OFFLINE',
  'HF_DATASETS_OFFLINE',
  'TRANSFORMERS_OFFLINE',
];

/**
 * The allow-listed variables (plus `extra` names) that are set in `env`, sorted by name,
 * with credential-looking names and values redacted.
 */
export function captureRunEnvironment(env: NodeJS.ProcessEnv, extra: readonly string[] = []): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of [...new Set([...RUN_ENV_ALLOWLIST, ...extra])].sort()) {
    const value = env[name];
    if (value !== undefined) picked[name] = value;
  }
  return redactEnvironment(picked);
}
