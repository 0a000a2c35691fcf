import * as z from 'zod';
import type { ByteSource } from './byte-source.js';
import { TFJS_DTYPES } from './dtypes.js';
import { TENSOR_LIMITS, addHint, assertNoOverlaps, clip, elementCount, headerError, packedBytes, type ReadContext, type TensorHeader, type TensorInfo, type TensorSegment } from './tensor-header.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

const weightSchema = z.object({
  name: z.string().min(1).max(TENSOR_LIMITS.nameBytes),
  shape: z.array(z.number().int().nonnegative()).max(TENSOR_LIMITS.dims),
  dtype: z.string(),
  quantization: z.object({ dtype: z.enum(['uint8', 'uint16', 'float16']) }).passthrough().optional(),
}).passthrough();
const groupSchema = z.object({
  paths: z.array(z.string().min(1)).min(1).max(100_000),
  weights: z.array(weightSchema).max(TENSOR_LIMITS.tensors),
}).passthrough();
const manifestSchema = z.array(groupSchema).max(100_000);

/** Cheap test on the first bytes and the whole text: is this JSON worth parsing as a TF.js manifest? */
export function looksLikeTfjs(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  if (b[i] === 0x7b) return b.includes('"weightsManifest"');
  if (b[i] === 0x5b) return b.includes('"paths"') && b.includes('"weights"');
  return false;
}

/**
 * Reads a TF.js model: `model.json` (`{modelTopology, weightsManifest: [{paths, weights}]}`)
 * or a bare weights manifest (the array alone, as `*-weights_manifest.json`). Each group's
 * shards are concatenated and its weights laid out in order, so a weight may span shards;
 * a quantized weight takes its storage dtype's bytes. Shards are files of the version named
 * relative to the manifest; only their sizes are used. Refused: invalid UTF-8 or JSON, a
 * manifest that does not match the schema, unknown or string dtypes, a shard that is absent,
 * the manifest itself or listed twice, duplicate weight names, weights needing more bytes
 * than the shards hold.
 */
export function readTfjs(src: ByteSource, ctx: ReadContext): TensorHeader {
  const fail = (msg: string) => headerError('tfjs', ctx.path, msg);
  if (src.size > TENSOR_LIMITS.headerBytes) throw fail(`${src.size} bytes, more than the ${TENSOR_LIMITS.headerBytes}-byte limit for a model.json`);
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(src.read(0, src.size)));
  } catch (err) {
    throw fail(`not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const hints: Record<string, string | number> = {};
  let manifestValue: unknown = doc;
  if (!Array.isArray(doc)) {
    if (typeof doc !== 'object' || doc === null || !('weightsManifest' in doc)) throw fail('no weightsManifest');
    const m = doc as Record<string, unknown>;
    manifestValue = m.weightsManifest;
    addHint(hints, 'format', m.format);
    addHint(hints, 'generatedBy', m.generatedBy);
    addHint(hints, 'convertedBy', m.convertedBy);
    const topo = m.modelTopology as Record<string, unknown> | undefined;
    if (topo && typeof topo === 'object') {
      if (Array.isArray(topo.node)) addHint(hints, 'nodes', topo.node.length);
      const config = (topo.model_config ?? topo.config) as Record<string, unknown> | undefined;
      addHint(hints, 'class', config && typeof config === 'object' ? config.class_name : topo.class_name);
      addHint(hints, 'keras_version', topo.keras_version);
    }
  }
  const parsed = manifestSchema.safeParse(manifestValue);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fail(`the weights manifest does not match its schema at ${issue.path.join('.') || 'the top'}: ${issue.message}`);
  }

  const tensors: TensorInfo[] = [];
  const names = new Set<string>();
  const shardsSeen = new Set<string>();
  for (const group of parsed.data) {
    const shards = group.paths.map((p) => {
      const file = ctx.sibling(p);
      if (!file) throw fail(`shard '${clip(p)}' is not a file of this version`);
      if (file.path === ctx.path) throw fail(`shard '${clip(p)}' is the manifest itself`);
      if (shardsSeen.has(file.path)) throw fail(`shard '${clip(p)}' is listed twice`);
      shardsSeen.add(file.path);
      return file;
    });
    const total = shards.reduce((s, f) => s + f.size, 0);
    let at = 0;
    for (const wgt of group.weights) {
      if (tensors.length >= TENSOR_LIMITS.tensors) throw fail(`more than ${TENSOR_LIMITS.tensors} weights`);
      if (names.has(wgt.name)) throw fail(`weight '${clip(wgt.name)}' appears twice`);
      names.add(wgt.name);
      const declared = Object.hasOwn(TFJS_DTYPES, wgt.dtype) ? TFJS_DTYPES[wgt.dtype] : null;
      if (!declared || declared.bits === null) throw fail(`weight '${clip(wgt.name)}' has dtype '${clip(wgt.dtype)}', which has no fixed size`);
      const stored = wgt.quantization ? TFJS_DTYPES[wgt.quantization.dtype] : declared;
      const elements = elementCount(wgt.shape);
      if (elements === null) throw fail(`weight '${clip(wgt.name)}' has a shape whose size overflows`);
      const bytes = packedBytes(elements, stored.bits as number);
      if (at + bytes > total) throw fail(`weight '${clip(wgt.name)}' needs bytes ${at}–${at + bytes}, past the ${total} bytes of its shards`);
      tensors.push({
        name: wgt.name,
        dtype: declared.name,
        shape: wgt.shape,
        parameters: elements,
        ...(wgt.quantization ? { storage: stored.name } : {}),
        segments: spanShards(shards, at, bytes),
      });
      at += bytes;
    }
  }
  assertNoOverlaps('tfjs', ctx.path, tensors);
  return { format: 'tfjs', tensors, hints, inputs: [], outputs: [] };
}

/** The pieces of bytes [at, at + length) of the concatenated shards, one per shard touched. */
function spanShards(shards: readonly { path: string; size: number }[], at: number, length: number): TensorSegment[] {
  const out: TensorSegment[] = [];
  let base = 0;
  for (const s of shards) {
    const from = Math.max(at, base);
    const to = Math.min(at + length, base + s.size);
    if (to > from) out.push({ file: s.path, offset: from - base, length: to - from });
    base += s.size;
    if (base >= at + length) break;
  }
  return out;
}
