/**
 * Where a result came from, beyond what the RunResult holds: hil's version, the host, the CI job
 * (GitHub Actions, GitLab CI, Jenkins: from their documented environment variables) and a hash of
 * each scenario's folder (so "same scenario" means same files, not same name).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { checkoutPath } from '../checkout.js';

export interface CiJob {
  system: 'github' | 'gitlab' | 'jenkins';
  /** Job / run identifier as the CI names it (e.g. `owner/repo#123.1 build`). */
  job: string;
  /** Link to the job, when the CI gives one. */
  url?: string;
  /** The commit being tested, when the CI gives one. */
  commit?: string;
}

export interface RunProvenance {
  hilVersion: string;
  host: string;
  ci: CiJob | null;
}

/** The CI job this process runs in, from the environment (null: not in a known CI). */
export function ciJob(env: NodeJS.ProcessEnv = process.env): CiJob | null {
  if (env.GITHUB_ACTIONS === 'true' || env.GITHUB_RUN_ID) {
    // https://docs.github.com/actions/learn-github-actions/variables#default-environment-variables
    const repo = env.GITHUB_REPOSITORY ?? '';
    const run = `${env.GITHUB_RUN_ID ?? '?'}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}`;
    const url = env.GITHUB_SERVER_URL && repo && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${repo}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
    return clean({ system: 'github', job: `${repo}#${run}${env.GITHUB_JOB ? ` ${env.GITHUB_JOB}` : ''}`, url, commit: env.GITHUB_SHA });
  }
  if (env.GITLAB_CI || env.CI_JOB_ID) {
    // https://docs.gitlab.com/ci/variables/predefined_variables/
    const job = `${env.CI_PROJECT_PATH ?? ''}#${env.CI_PIPELINE_ID ?? '?'}/${env.CI_JOB_ID ?? '?'}${env.CI_JOB_NAME ? ` ${env.CI_JOB_NAME}` : ''}`;
    return clean({ system: 'gitlab', job, url: env.CI_JOB_URL, commit: env.CI_COMMIT_SHA });
  }
  if (env.JENKINS_URL || env.BUILD_TAG?.startsWith('jenkins-')) {
    // https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#using-environment-variables
    return clean({ system: 'jenkins', job: `${env.JOB_NAME ?? '?'}#${env.BUILD_NUMBER ?? '?'}`, url: env.BUILD_URL, commit: env.GIT_COMMIT });
  }
  return null;
}

function clean(j: CiJob): CiJob {
  for (const k of ['url', 'commit'] as const) if (!j[k]) delete j[k];
  return j;
}

let version: string | undefined;
/** hil's version (package.json). */
export function hilVersion(): string {
  if (version) return version;
  try {
    version = (JSON.parse(readFileSync(checkoutPath('package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    version = 'unknown';
  }
  return version;
}

export function runProvenance(env: NodeJS.ProcessEnv = process.env): RunProvenance {
  return { hilVersion: hilVersion(), host: hostname(), ci: ciJob(env) };
}

/**
 * sha256 over a scenario folder: every file's relative path and bytes, in sorted order (folders
 * named node_modules or starting with `.` are left out). null when the folder cannot be read.
 */
export function hashFolder(dir: string): string | null {
  try {
    const h = createHash('sha256');
    const walk = (d: string) => {
      for (const name of readdirSync(d).sort()) {
        if (name.startsWith('.') || name === 'node_modules') continue;
        const p = join(d, name);
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile()) {
          h.update(`${relative(dir, p)}\0${st.size}\0`);
          h.update(readFileSync(p));
        }
      }
    };
    walk(dir);
    return h.digest('hex');
  } catch {
    return null;
  }
}
