/**
 * Artifacts made by hand (not by modelctl) for the OCI tests: a ModelPack manifest laid out
 * like the spec's example, pushed with the registry client, with layers raw or tar.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { uploadBytesBlob } from '../../src/remote/oci/blob-upload.js';
import { RegistryClient } from '../../src/remote/oci/registry-client.js';
import { RegistryRepository } from '../../src/remote/oci/registry-repository.js';
import type { RegistryCredentials } from '../../src/remote/oci/docker-credentials.js';

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** One layer of a hand-made artifact. */
export interface HandLayer {
  mediaType: string;
  bytes: Buffer;
  annotations?: Record<string, string>;
}

/** A tar archive (ustar, via the tar package) of `files` (path → content, or a link target for `link:`), as bytes. */
export async function tarOf(files: Record<string, string | Buffer>, opts: { gzip?: boolean; links?: Record<string, string> } = {}): Promise<Buffer> {
  const tar = await import('tar');
  const dir = mkdtempSync(join(tmpdir(), 'modelctl-handtar-'));
  try {
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, 'root', p)), { recursive: true });
      writeFileSync(join(dir, 'root', p), c);
    }
    const { symlinkSync } = await import('node:fs');
    for (const [p, target] of Object.entries(opts.links ?? {})) {
      mkdirSync(dirname(join(dir, 'root', p)), { recursive: true });
      symlinkSync(target, join(dir, 'root', p));
    }
    const out = join(dir, 'layer.tar');
    await tar.c({ file: out, cwd: join(dir, 'root'), portable: true, gzip: opts.gzip ?? false, noMtime: true }, [...Object.keys(files), ...Object.keys(opts.links ?? {})]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pushes a hand-made ModelPack artifact to `repository:tag` on `registry`; returns the manifest bytes and digest. */
export async function pushHandArtifact(
  registry: string,
  repository: string,
  tags: string[],
  layers: HandLayer[],
  opts: { config?: unknown; credentials?: RegistryCredentials | null; artifactType?: string | null } = {},
): Promise<{ bytes: Buffer; digest: string }> {
  const client = new RegistryClient({ registry, plainHttp: true, credentials: opts.credentials ?? null });
  try {
    const repo = new RegistryRepository(client, repository);
    const descriptors = [];
    for (const l of layers) {
      await uploadBytesBlob(repo, l.bytes, sha256(l.bytes));
      descriptors.push({ mediaType: l.mediaType, digest: `sha256:${sha256(l.bytes)}`, size: l.bytes.length, ...(l.annotations ? { annotations: l.annotations } : {}) });
    }
    const config = Buffer.from(JSON.stringify(opts.config ?? {
      descriptor: { name: repository.split('/').pop(), createdAt: '2025-03-01T00:00:00Z', authors: ['hand@example.com'], description: 'made by hand' },
      config: { format: 'safetensors' },
      modelfs: { type: 'layers', diffIds: descriptors.map((d) => d.digest) },
    }));
    await uploadBytesBlob(repo, config, sha256(config));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...(opts.artifactType === null ? {} : { artifactType: opts.artifactType ?? 'application/vnd.cncf.model.manifest.v1+json' }),
      config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: `sha256:${sha256(config)}`, size: config.length },
      layers: descriptors,
    };
    const bytes = Buffer.from(JSON.stringify(manifest, null, 4));
    for (const t of tags) await repo.putManifest(t, bytes);
    return { bytes, digest: `sha256:${sha256(bytes)}` };
  } finally {
    client.close();
  }
}
