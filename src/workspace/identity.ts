import { hostname, platform, release, userInfo } from 'node:os';
import type { Environment } from '../core/manifest.js';
import { readGitUserEmail } from './git-state.js';
import { MODELCTL_VERSION } from '../version.js';

/** Who is acting: git `user.email` for `dir`, else the OS user name. */
export async function resolveActor(dir: string): Promise<string> {
  return actorOf(await readGitUserEmail(dir));
}

/** resolveActor's answer for a `user.email` read already (null: none). */
export function actorOf(email: string | null): string {
  return email ?? osUser();
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** The CI provider and job URL when the environment says so (docs/design.md §4, lineage), else null. */
export function detectCi(env: NodeJS.ProcessEnv = process.env): Environment['ci'] {
  if (env.GITHUB_ACTIONS === 'true') {
    const url = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : null;
    return { provider: 'github-actions', jobUrl: url };
  }
  if (env.GITLAB_CI) return { provider: 'gitlab', jobUrl: env.CI_JOB_URL ?? null };
  if (env.BUILDKITE) return { provider: 'buildkite', jobUrl: env.BUILDKITE_BUILD_URL ?? null };
  if (env.CIRCLECI) return { provider: 'circleci', jobUrl: env.CIRCLE_BUILD_URL ?? null };
  if (env.JENKINS_URL) return { provider: 'jenkins', jobUrl: env.BUILD_URL ?? null };
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return { provider: 'unknown', jobUrl: null };
  return null;
}

/** The environment block of a version's lineage. */
export function captureEnvironment(actor: string, env: NodeJS.ProcessEnv = process.env): Environment {
  return {
    modelctl: MODELCTL_VERSION,
    node: process.version,
    os: `${platform()} ${release()}`,
    hostname: hostname(),
    user: actor,
    ci: detectCi(env),
  };
}

/** This machine's host name (events record it). */
export function hostName(): string {
  return hostname();
}
