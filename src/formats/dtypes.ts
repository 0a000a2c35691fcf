/**
 * Element types of each format mapped to one vocabulary (so `ls` can say "bf16" whatever
 * the format), with their storage size. Block-quantized GGML types store `blockBytes` per
 * `blockElements` elements.
 */

export interface ElementType {
  /** The common name (lower case). */
  name: string;
  /** Bits per element, or null for variable-length (strings). */
  bits: number | null;
}

const t = (name: string, bits: number | null): ElementType => ({ name, bits });

/** safetensors dtype strings (the spec's list, including the sub-byte float types). */
export const SAFETENSORS_DTYPES: Readonly<Record<string, ElementType>> = {
  BOOL: t('bool', 8),
  U8: t('u8', 8),
  I8: t('i8', 8),
  F8_E5M2: t('f8_e5m2', 8),
  F8_E4M3: t('f8_e4m3', 8),
  F8_E8M0: t('f8_e8m0', 8),
  I16: t('i16', 16),
  U16: t('u16', 16),
  F16: t('f16', 16),
  BF16: t('bf16', 16),
  I32: t('i32', 32),
  U32: t('u32', 32),
  F32: t('f32', 32),
  C64: t('c64', 64),
  F64: t('f64', 64),
  I64: t('i64', 64),
  U64: t('u64', 64),
  F4: t('f4_e2m1', 4),
  F6_E2M3: t('f6_e2m3', 6),
  F6_E3M2: t('f6_e3m2', 6),
};

/** ONNX TensorProto.DataType numbers (onnx.proto; 17+ postdate the shipped 1.12 schema, same numbering). */
export const ONNX_DTYPES: Readonly<Record<number, ElementType>> = {
  1: t('f32', 32),
  2: t('u8', 8),
  3: t('i8', 8),
  4: t('u16', 16),
  5: t('i16', 16),
  6: t('i32', 32),
  7: t('i64', 64),
  8: t('string', null),
  9: t('bool', 8),
  10: t('f16', 16),
  11: t('f64', 64),
  12: t('u32', 32),
  13: t('u64', 64),
  14: t('c64', 64),
  15: t('c128', 128),
  16: t('bf16', 16),
  17: t('f8_e4m3fn', 8),
  18: t('f8_e4m3fnuz', 8),
  19: t('f8_e5m2', 8),
  20: t('f8_e5m2fnuz', 8),
  21: t('u4', 4),
  22: t('i4', 4),
  23: t('f4_e2m1', 4),
  24: t('f8_e8m0', 8),
  25: t('u2', 2),
  26: t('i2', 2),
};

/** TF.js weight dtypes and quantization storage dtypes. */
export const TFJS_DTYPES: Readonly<Record<string, ElementType>> = {
  float32: t('f32', 32),
  int32: t('i32', 32),
  bool: t('bool', 8),
  complex64: t('c64', 64),
  string: t('string', null),
  uint8: t('u8', 8),
  uint16: t('u16', 16),
  float16: t('f16', 16),
  int8: t('i8', 8),
  int16: t('i16', 16),
};

/** A GGML tensor type: its name and how many bytes a block of elements takes. */
export interface GgmlType {
  name: string;
  blockElements: number;
  blockBytes: number;
}

const g = (name: string, blockElements: number, blockBytes: number): GgmlType => ({ name, blockElements, blockBytes });

/** ggml_type numbers of GGUF tensor infos (ggml's type traits; 4, 5 and 31–33 were removed). */
export const GGML_TYPES: Readonly<Record<number, GgmlType>> = {
  0: g('f32', 1, 4),
  1: g('f16', 1, 2),
  2: g('q4_0', 32, 18),
  3: g('q4_1', 32, 20),
  6: g('q5_0', 32, 22),
  7: g('q5_1', 32, 24),
  8: g('q8_0', 32, 34),
  9: g('q8_1', 32, 36),
  10: g('q2_k', 256, 84),
  11: g('q3_k', 256, 110),
  12: g('q4_k', 256, 144),
  13: g('q5_k', 256, 176),
  14: g('q6_k', 256, 210),
  15: g('q8_k', 256, 292),
  16: g('iq2_xxs', 256, 66),
  17: g('iq2_xs', 256, 74),
  18: g('iq3_xxs', 256, 98),
  19: g('iq1_s', 256, 50),
  20: g('iq4_nl', 32, 18),
  21: g('iq3_s', 256, 110),
  22: g('iq2_s', 256, 82),
  23: g('iq4_xs', 256, 136),
  24: g('i8', 1, 1),
  25: g('i16', 1, 2),
  26: g('i32', 1, 4),
  27: g('i64', 1, 8),
  28: g('f64', 1, 8),
  29: g('iq1_m', 256, 56),
  30: g('bf16', 1, 2),
  34: g('tq1_0', 256, 54),
  35: g('tq2_0', 256, 66),
  39: g('mxfp4', 32, 17),
  40: g('nvfp4', 64, 36),
  41: g('q1_0', 128, 18),
  42: g('q2_0', 64, 18),
};
