import type { ByteSource } from './byte-source.js';
import { ONNX_DTYPES } from './dtypes.js';
import { onnxSchema, type OnnxSchema } from './onnx/onnx-schema.js';
import { ProtoWalker, type WireField } from './onnx/proto-walk.js';
import {
  TENSOR_LIMITS,
  addHint,
  assertNoOverlaps,
  clip,
  elementCount,
  headerError,
  packedBytes,
  type ReadContext,
  type TensorHeader,
  type TensorInfo,
  type TensorSegment,
  type TensorSignature,
} from './tensor-header.js';

/** A protobufjs int64: a Long when long.js is present, else a number. */
type Int64 = number | { toNumber(): number; toString(): string };

interface DecodedTensor {
  name?: string;
  dims?: Int64[];
  data_type?: number;
  data_location?: number;
  external_data?: { key?: string; value?: string }[];
}

interface DecodedNode {
  name?: string;
  op_type?: string;
  input?: string[];
  output?: string[];
}

interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: Int64; dim_param?: string }[] } } };
}

interface DecodedModel {
  ir_version?: Int64;
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  opset_import?: { domain?: string; version?: Int64 }[];
  metadata_props?: { key?: string; value?: string }[];
}

/** Fields other than weight data are decoded only up to this size (a huge doc string is skipped). */
const SMALL_FIELD = 1024 * 1024;
/** TensorProto.DataLocation.EXTERNAL */
const EXTERNAL = 1;

const toNumber = (v: Int64 | undefined): number => (v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

/**
 * Reads an ONNX model's structure: graph inputs and outputs, every initializer (and sparse
 * initializer, Constant node value and subgraph initializer) with its name, dtype, shape and
 * byte range, and hints (producer, IR version, opset, operator counts). The file is walked
 * with protobufjs over the ONNX schema (onnx.proto), decoding only the small fields: tensor
 * data (raw_data and the typed data fields) is stepped over, never read. Refused: anything
 * that does not decode as a ModelProto with one graph, unknown dtypes, negative dimensions,
 * raw data whose length disagrees with dtype × shape, external data outside the version or
 * past its file's end, duplicated tensor or node-output names, and graphs with a cycle.
 */
export function readOnnx(src: ByteSource, ctx: ReadContext): TensorHeader {
  const fail = (msg: string) => headerError('onnx', ctx.path, msg);
  const s = onnxSchema();
  const w = new ProtoWalker(src, s, fail);
  const ids = fieldIds(s);

  const modelParts: WireField[] = [];
  let graph: WireField | null = null;
  for (const f of w.fields(0, src.size)) {
    if (f.id === ids.model.graph) {
      if (f.wireType !== 2) throw fail('the graph field is not a message');
      if (graph) throw fail('the model holds two graphs');
      graph = f;
    } else if (f.end - f.start <= SMALL_FIELD) modelParts.push(f);
  }
  const model = w.decodeFields<DecodedModel>(s.ModelProto, modelParts);
  if (model.ir_version === undefined || !graph) throw fail('no ir_version or no graph: not an ONNX ModelProto');

  const tensors: TensorInfo[] = [];
  const ops = new Map<string, number>();
  let nodeCount = 0;
  const signatures: { inputs: TensorSignature[]; outputs: TensorSignature[]; name: string } = { inputs: [], outputs: [], name: '' };

  const readTensor = (field: WireField, fallbackName: string): TensorInfo => {
    const parts: WireField[] = [];
    const data: TensorSegment[] = [];
    let rawLength: number | null = null;
    for (const f of w.fields(field.valueStart, field.end)) {
      if (ids.tensorData.has(f.id)) {
        if (f.id === ids.tensor.raw_data) rawLength = (rawLength ?? 0) + (f.end - f.valueStart);
        const seg = f.wireType === 2 ? { file: null, offset: f.valueStart, length: f.end - f.valueStart } : { file: null, offset: f.start, length: f.end - f.start };
        const last = data[data.length - 1];
        // Unpacked repeated values lie field after field: one segment for the run.
        if (last && last.offset + last.length === f.start) last.length = seg.offset + seg.length - last.offset;
        else data.push(seg);
      } else if (f.end - f.start <= SMALL_FIELD) parts.push(f);
    }
    const t = w.decodeFields<DecodedTensor>(s.TensorProto, parts);
    const name = t.name || fallbackName;
    if (!name) throw fail('a tensor without a name');
    if (name.length > TENSOR_LIMITS.nameBytes) throw fail(`a tensor name of ${name.length} characters`);
    const type = ONNX_DTYPES[t.data_type ?? 0];
    if (!type) throw fail(`tensor '${clip(name)}' has unknown data type ${t.data_type ?? 0}`);
    const shape = (t.dims ?? []).map(toNumber);
    if (shape.length > TENSOR_LIMITS.dims) throw fail(`tensor '${clip(name)}' has ${shape.length} dimensions`);
    const elements = elementCount(shape);
    if (elements === null) throw fail(`tensor '${clip(name)}' has an invalid shape ${clip(JSON.stringify(shape))}`);
    const expected = type.bits === null ? null : packedBytes(elements, type.bits);
    let segments = data;
    if (t.data_location === EXTERNAL) {
      segments = [externalSegment(name, t.external_data ?? [], expected)];
    } else if (rawLength !== null && expected !== null && rawLength !== expected) {
      throw fail(`tensor '${clip(name)}' holds ${rawLength} bytes of raw data, ${type.name} × ${JSON.stringify(shape)} needs ${expected}`);
    } else if (data.length === 0 && elements > 0) {
      throw fail(`tensor '${clip(name)}' has ${elements} elements and no data`);
    }
    return { name, dtype: type.name, shape, parameters: elements, segments };
  };

  const externalSegment = (name: string, entries: { key?: string; value?: string }[], expected: number | null): TensorSegment => {
    const get = (k: string) => entries.find((e) => e.key === k)?.value;
    const location = get('location');
    if (!location) throw fail(`tensor '${clip(name)}' is external but names no location`);
    const file = ctx.sibling(location);
    if (!file) throw fail(`tensor '${clip(name)}' is stored in '${clip(location)}', which is not a file of this version`);
    if (file.path === ctx.path) throw fail(`tensor '${clip(name)}' names the model file itself as its external data`);
    const offset = Number(get('offset') ?? '0');
    const length = get('length') !== undefined ? Number(get('length')) : (expected ?? file.size - offset);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > file.size) {
      throw fail(`tensor '${clip(name)}' claims bytes ${get('offset') ?? 0}+${get('length') ?? '?'} of '${clip(location)}', outside its ${file.size} bytes`);
    }
    if (expected !== null && length !== expected) throw fail(`tensor '${clip(name)}' claims ${length} external bytes, its dtype and shape need ${expected}`);
    return { file: file.path, offset, length };
  };

  const readSparse = (field: WireField): TensorInfo => {
    let values: TensorInfo | null = null;
    let indices: TensorInfo | null = null;
    const dimsParts: WireField[] = [];
    for (const f of w.fields(field.valueStart, field.end)) {
      if (f.id === ids.sparse.values) values = readTensor(f, '');
      else if (f.id === ids.sparse.indices) indices = readTensor(f, 'indices');
      else if (f.id === ids.sparse.dims) dimsParts.push(f);
    }
    if (!values) throw fail('a sparse initializer without values');
    const dense = w.decodeFields<{ dims?: Int64[] }>(s.SparseTensorProto, dimsParts).dims?.map(toNumber) ?? values.shape;
    return { ...values, shape: dense, segments: [...values.segments, ...(indices?.segments ?? [])] };
  };

  const walkGraph = (field: WireField, prefix: string, depth: number, main: boolean): void => {
    if (depth > TENSOR_LIMITS.depth) throw fail(`subgraphs nest deeper than ${TENSOR_LIMITS.depth}`);
    const names = new Set<string>();
    const produced = new Map<string, number>();
    const consumers: string[][] = [];
    const initializerNames = new Set<string>();
    const add = (t: TensorInfo) => {
      if (tensors.length >= TENSOR_LIMITS.tensors) throw fail(`more than ${TENSOR_LIMITS.tensors} tensors`);
      if (names.has(t.name)) throw fail(`tensor name '${clip(t.name)}' appears twice`);
      names.add(t.name);
      tensors.push({ ...t, name: prefix + t.name });
    };
    const graphParts: WireField[] = [];
    const inputs: WireField[] = [];
    const outputs: WireField[] = [];
    for (const f of w.fields(field.valueStart, field.end)) {
      if (f.id === ids.graph.initializer) {
        const t = readTensor(f, '');
        initializerNames.add(t.name);
        add(t);
      } else if (f.id === ids.graph.sparse_initializer) add(readSparse(f));
      else if (f.id === ids.graph.node) {
        if (++nodeCount > TENSOR_LIMITS.nodes) throw fail(`more than ${TENSOR_LIMITS.nodes} nodes`);
        const node = walkNode(f, prefix, depth);
        for (const t of node.tensors) add(t);
        if (main) ops.set(node.opType, (ops.get(node.opType) ?? 0) + 1);
        const index = consumers.length;
        consumers.push(node.inputs);
        for (const out of node.outputs) {
          if (!out) continue;
          if (produced.has(out)) throw fail(`two nodes produce '${clip(out)}'`);
          produced.set(out, index);
        }
      } else if (main && f.id === ids.graph.input && f.end - f.start <= SMALL_FIELD) inputs.push(f);
      else if (main && f.id === ids.graph.output && f.end - f.start <= SMALL_FIELD) outputs.push(f);
      else if (f.id === ids.graph.name && f.end - f.start <= SMALL_FIELD) graphParts.push(f);
    }
    assertAcyclic(consumers, produced, fail);
    if (main) {
      signatures.name = w.decodeFields<{ name?: string }>(s.GraphProto, graphParts).name ?? '';
      // IR < 4 lists initializers among the inputs: the signature is what a caller feeds.
      signatures.inputs = inputs.map((f) => signature(w.decodeMessage<DecodedValueInfo>(s.ValueInfoProto, f))).filter((x) => !initializerNames.has(x.name));
      signatures.outputs = outputs.map((f) => signature(w.decodeMessage<DecodedValueInfo>(s.ValueInfoProto, f)));
    }
  };

  const walkNode = (field: WireField, prefix: string, depth: number): { opType: string; inputs: string[]; outputs: string[]; tensors: TensorInfo[] } => {
    const parts: WireField[] = [];
    const attributes: WireField[] = [];
    for (const f of w.fields(field.valueStart, field.end)) {
      if (f.id === ids.node.attribute) attributes.push(f);
      else if (f.end - f.start <= SMALL_FIELD) parts.push(f);
    }
    const node = w.decodeFields<DecodedNode>(s.NodeProto, parts);
    const opType = node.op_type ?? '';
    const label = node.name || node.output?.[0] || opType || 'node';
    const tensors: TensorInfo[] = [];
    for (const a of attributes) {
      const attrParts: WireField[] = [];
      const attrTensors: WireField[] = [];
      const graphs: WireField[] = [];
      for (const f of w.fields(a.valueStart, a.end)) {
        if (f.id === ids.attr.t || f.id === ids.attr.tensors) attrTensors.push(f);
        else if (f.id === ids.attr.g || f.id === ids.attr.graphs) graphs.push(f);
        else if (f.id === ids.attr.name) attrParts.push(f);
      }
      const attrName = w.decodeFields<{ name?: string }>(s.AttributeProto, attrParts).name ?? '';
      attrTensors.forEach((f, i) => {
        const fallback = opType === 'Constant' && node.output?.[0] ? node.output[0] : `${label}/${attrName}${attrTensors.length > 1 ? `[${i}]` : ''}`;
        const t = readTensor(f, fallback);
        // A Constant's value is known by the output it feeds, whatever the tensor calls itself.
        tensors.push(opType === 'Constant' && node.output?.[0] ? { ...t, name: node.output[0] } : t);
      });
      graphs.forEach((f, i) => walkGraph(f, `${prefix}${label}/${attrName}${graphs.length > 1 ? `[${i}]` : ''}/`, depth + 1, false));
    }
    return { opType, inputs: node.input ?? [], outputs: node.output ?? [], tensors };
  };

  walkGraph(graph, '', 0, true);
  assertNoOverlaps('onnx', ctx.path, tensors);

  const hints: Record<string, string | number> = {};
  addHint(hints, 'producer', [model.producer_name, model.producer_version].filter(Boolean).join(' '));
  addHint(hints, 'ir_version', toNumber(model.ir_version));
  const opset = model.opset_import?.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (opset) addHint(hints, 'opset', toNumber(opset.version));
  addHint(hints, 'domain', model.domain);
  if (toNumber(model.model_version) !== 0) addHint(hints, 'model_version', toNumber(model.model_version));
  addHint(hints, 'graph', signatures.name);
  addHint(hints, 'nodes', nodeCount);
  const topOps = [...ops].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 8);
  addHint(hints, 'ops', topOps.map(([op, n]) => `${op}×${n}`).join(', '));
  for (const p of model.metadata_props ?? []) if (p.key) addHint(hints, `metadata.${p.key}`, p.value);
  return { format: 'onnx', tensors, hints, inputs: signatures.inputs, outputs: signatures.outputs };
}

function signature(v: DecodedValueInfo): TensorSignature {
  const tt = v.type?.tensor_type;
  const dims = tt?.shape?.dim;
  return {
    name: v.name ?? '',
    dtype: tt?.elem_type !== undefined ? (ONNX_DTYPES[tt.elem_type]?.name ?? null) : null,
    shape: dims ? dims.map((d) => (d.dim_param ? d.dim_param : d.dim_value !== undefined ? toNumber(d.dim_value) : '?')) : null,
  };
}

/** Kahn's algorithm over one graph's nodes: a valid ONNX graph is a DAG. */
function assertAcyclic(consumers: readonly string[][], produced: ReadonlyMap<string, number>, fail: (m: string) => Error): void {
  const n = consumers.length;
  const indegree = new Array<number>(n).fill(0);
  const next: number[][] = Array.from({ length: n }, () => []);
  consumers.forEach((inputs, i) => {
    for (const name of new Set(inputs)) {
      const from = produced.get(name);
      if (from === undefined) continue;
      next[from].push(i);
      indegree[i]++;
    }
  });
  const queue: number[] = [];
  indegree.forEach((d, i) => d === 0 && queue.push(i));
  let seen = 0;
  while (queue.length) {
    const i = queue.pop() as number;
    seen++;
    for (const j of next[i]) if (--indegree[j] === 0) queue.push(j);
  }
  if (seen < n) {
    const stuck = indegree.findIndex((d) => d > 0);
    const name = consumers[stuck].find((x) => produced.has(x)) ?? '?';
    throw fail(`the graph has a cycle (through '${clip(name)}')`);
  }
}

function fieldIds(s: OnnxSchema) {
  const tensorData = new Set(['raw_data', 'float_data', 'int32_data', 'string_data', 'int64_data', 'double_data', 'uint64_data'].map((f) => s.id('TensorProto', f)));
  return {
    model: { graph: s.id('ModelProto', 'graph') },
    graph: {
      node: s.id('GraphProto', 'node'),
      name: s.id('GraphProto', 'name'),
      initializer: s.id('GraphProto', 'initializer'),
      sparse_initializer: s.id('GraphProto', 'sparse_initializer'),
      input: s.id('GraphProto', 'input'),
      output: s.id('GraphProto', 'output'),
    },
    node: { attribute: s.id('NodeProto', 'attribute') },
    attr: { name: s.id('AttributeProto', 'name'), t: s.id('AttributeProto', 't'), tensors: s.id('AttributeProto', 'tensors'), g: s.id('AttributeProto', 'g'), graphs: s.id('AttributeProto', 'graphs') },
    tensor: { raw_data: s.id('TensorProto', 'raw_data') },
    tensorData,
    sparse: { values: s.id('SparseTensorProto', 'values'), indices: s.id('SparseTensorProto', 'indices'), dims: s.id('SparseTensorProto', 'dims') },
  };
}
