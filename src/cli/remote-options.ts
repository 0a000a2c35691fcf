import { Option, type Command } from 'commander';

/** The flags that name a remote: a configured name or a URL, and an S3-compatible server's endpoint and region. */
export interface RemoteFlags {
  remote?: string;
  endpoint?: string;
  region?: string;
  /** With an oci:// URL: plain HTTP to a registry that is not on this machine (the commands that take oci:// remotes). */
  plainHttp?: boolean;
}

/**
 * Adds --endpoint and --region to a command that takes a remote URL (README: Remotes):
 * without them an s3:// URL uses AWS_ENDPOINT_URL_S3 / AWS_REGION, as the AWS SDK does.
 */
export function withEndpointOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--endpoint <url>', 'with an s3:// URL: the S3-compatible endpoint (MinIO, Ceph RGW, R2 …); default AWS_ENDPOINT_URL_S3'))
    .addOption(new Option('--region <region>', 'with an s3:// URL: the S3 region; default AWS_REGION'));
}

/** --remote (with the description a read-only command gives it), --endpoint and --region. */
export function withReadRemoteOptions(cmd: Command): Command {
  return withEndpointOptions(cmd.option('-r, --remote <name|url>', 'read what this remote holds instead of the local index (no repository needed; nothing is stored)'));
}

/** Adds --plain-http, for the commands that also take an oci:// remote (README: OCI registries). */
export function withPlainHttpOption(cmd: Command): Command {
  return cmd.option('--plain-http', 'with an oci:// URL: plain HTTP to a registry that is not on this machine');
}

/** The remote target the api takes, from the flags. */
export function remoteTargetOf(flags: RemoteFlags): RemoteFlags {
  return { remote: flags.remote, endpoint: flags.endpoint, region: flags.region, plainHttp: flags.plainHttp };
}
