/** The `modelctl help <topic>` pages: concepts that cut across commands. */

/** One help topic: a one-line summary (listed under `modelctl --help`) and its page. */
export interface HelpTopic {
  name: string;
  summary: string;
  text: string;
}

/** Every topic, in the order `modelctl help` lists them. */
export const HELP_TOPICS: readonly HelpTopic[] = [
  {
    name: 'references',
    summary: 'how to name a version: fraud, fraud@v3, fraud@production, fraud@1.4.0, fraud@3f9a2c1',
    text: `References name one version of a model:  <model>[@<selector>]

  fraud                 the latest version (same as fraud@latest)
  fraud@latest          the highest-numbered version
  fraud@v3              version number 3 (numbers are per model: v1, v2, …)
  fraud@production      the version that holds the stage "production" now
  fraud@1.4.0           the version tagged "1.4.0"
  fraud@3f9a2c1         a version whose id starts with these hex digits (at least 7)
  team/fraud@staging    models may have one namespace: team/fraud

A name after @ is looked up as a stage first, then as a tag, then as an id prefix, so tag
names may not be stage names, "latest" or look like v<N>.

An unknown or ambiguous reference exits 3 and lists the closest candidates. See the
versions with \`modelctl log <model>\`, tags with \`modelctl tags <model>\`, stages with
\`modelctl ls\`.

Examples:
  modelctl show fraud@production
  modelctl diff fraud@v2 fraud@v3
  modelctl checkout fraud@1.4.0 --out ./serving`,
  },
  {
    name: 'stages',
    summary: 'lifecycle stages, promotion policies, rollback and the audit trail',
    text: `Stages are lifecycle pointers per model: at most one version holds each stage.
They are configured in modelctl.json, in promotion order:

  "stages": ["staging", "production"]

  modelctl promote fraud@v3 --to staging            move "staging" to v3
  modelctl promote fraud@staging --to production --reason "beats v2 by 2 points"
  modelctl rollback fraud --stage production        back to the previous holder
  modelctl history fraud --stage production         every move: who, when, why

A stage may have a policy in modelctl.json; a promotion that breaks it exits 5 and names
every unmet rule:

  "policies": {
    "production": {
      "from": "staging",                  the version held staging first
      "metrics": { "accuracy": ">= 0.92" },
      "clean_git": true,                  committed from a clean git tree
      "require_reason": true              --reason is mandatory
    }
  }

Moving the last stage asks for confirmation on a terminal (--yes skips it; CI never asks).
Every move is an audit event (\`modelctl history --verify\` checks the hash chain). Moves
are local until \`modelctl push\`; \`promote --push\` acts on the default remote at once,
and a concurrent move there makes it exit 4 with nothing changed.

Hooks in .modelctl/hooks/ (pre-promote, post-promote, …) run around moves: a failing
pre-promote hook denies the move (exit 5). Samples ship in the package's templates/hooks/.`,
  },
  {
    name: 'remotes',
    summary: 'sharing versions through a bucket or a folder: URLs, credentials, push and pull',
    text: `A remote is an object store that holds versions for a team; no server is needed.

  s3://bucket/prefix            Amazon S3, or any S3-compatible store with --endpoint
  /mnt/share/models             a folder (local disk, NFS or SMB mount)
  file:///mnt/share/models      the same, as a URL

  modelctl remote add origin s3://ml-registry/fraud --default
  modelctl remote add minio s3://models --endpoint http://localhost:9000 --region us-east-1
  modelctl remote ls
  modelctl push                       upload what the remote lacks, then numbers, tags, stages, events
  modelctl fetch                      bring remote versions, tags and stages into the index (no bytes)
  modelctl pull fraud@production      download, verify and check out
  modelctl pull fraud@production --remote s3://ml-registry/fraud --out ./model
                                      no repository needed (CI, deploy jobs)

Credentials come from the AWS SDK's default chain: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, instance and container roles. AWS_REGION and
AWS_ENDPOINT_URL_S3 are honoured; MODELCTL_REMOTE picks the default remote by name.
Never put credentials in a remote URL.

Files travel as content-defined chunks (about 1 MiB), so a retrained model re-sends only
the chunks that changed. Network, credential and permission failures exit 7 after
retries; a stage or number someone else moved first exits 4.

No network at all? \`modelctl export <ref> -o file.tar.gz\` and \`modelctl import\` carry a
version as one file.`,
  },
  {
    name: 'exit-codes',
    summary: 'what each exit status means, for scripts',
    text: `Exit codes (the same for every command; --json puts the error on stderr as
{"error":{"code":"…","message":"…","hint":"…","exitCode":N}}):

  0    success, or nothing to do
  1    unexpected failure: a bug, please report it (MODELCTL_DEBUG=1 shows the stack)
  2    usage: unknown command or flag, bad argument, not a bundle
  3    not found: repository, model, reference, remote, file
  4    conflict: tag exists, stage moved concurrently, files would be overwritten, lock held
  5    denied by a stage policy, an archived version or a pre-* hook
  6    integrity: a hash mismatch, a missing or corrupt object, a broken audit chain
  7    remote: network, credentials, permissions, throttling after retries
  130  interrupted (Ctrl-C); nothing half-written was left

'modelctl run' is the one exception: when the command it runs fails, modelctl exits with
that command's exit code (COMMAND_FAILED). 'modelctl reproduce' exits 4 when the rebuilt
outputs are not bit-identical. 'modelctl serve' and 'modelctl watch' run until stopped:
SIGINT/SIGTERM ends them with 0 (watch: 130 when it had to abandon a download midway). The
HTTP API of serve answers errors with the same document and a status from the exit code
(2 → 400, 3 → 404, 4 → 409, 5 → 403, 6 → 500, 7 → 502).`,
  },
];

/** The topic called `name`, or undefined. */
export function findHelpTopic(name: string): HelpTopic | undefined {
  return HELP_TOPICS.find((t) => t.name === name);
}
