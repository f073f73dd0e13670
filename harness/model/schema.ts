/**
 * Facts from TensorFlow Lite's flatbuffer schema, tensorflow/lite/schema/schema.fbs (read in
 * tensorflow/tflite-micro at 6cdf0d78a68f33fe452f051713aa218619285438; the same file lives in
 * tensorflow/tensorflow). Only the numbers and names are reproduced here; the reading code is
 * tflite.ts. Field numbers are the declaration order of each table (FlatBuffers assigns ids in
 * order), listed with each table below.
 */

/** file_identifier "TFL3": bytes 4..7 of a model. */
export const TFLITE_FILE_IDENTIFIER = 'TFL3';

/**
 * The schema version TFLM accepts: TFLITE_SCHEMA_VERSION (3), tensorflow/lite/micro/micro_interpreter.h
 * (openmv/libtflm include/); OpenMV's backend raises ValueError "Unsupported model schema" for any
 * other Model.version (openmv/openmv lib/tflm/tflm_backend.cc, ml_backend_init_model).
 */
export const TFLITE_SCHEMA_VERSION = 3;

/** enum TensorType : byte (schema.fbs). */
export const TENSOR_TYPES: readonly string[] = [
  'FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8',
  'FLOAT64', 'COMPLEX128', 'UINT64', 'RESOURCE', 'VARIANT', 'UINT32', 'UINT16', 'INT4',
];

/**
 * Bytes per element as TFLM stores a tensor of the type in its arena (INT4 counted as one byte:
 * TFLM unpacks it; STRING, RESOURCE and VARIANT have no fixed size: 0, not planned here).
 */
export const TENSOR_TYPE_BYTES: readonly number[] = [4, 2, 4, 1, 8, 0, 1, 2, 8, 1, 8, 16, 8, 0, 0, 4, 2, 1];

export function tensorTypeName(code: number): string {
  return TENSOR_TYPES[code] ?? `UNKNOWN(${code})`;
}

/** enum BuiltinOperator : int32 (schema.fbs), values 0..205 in order; 225 below. */
const BUILTINS = `ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D
LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6
RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM
EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND
TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN
EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM
LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE
EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK
LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL
FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL
REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND
HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY
SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D
IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL
CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL
BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD
UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR
RIGHT_SHIFT STABLEHLO_LOGISTIC STABLEHLO_ADD STABLEHLO_DIVIDE STABLEHLO_MULTIPLY STABLEHLO_MAXIMUM
STABLEHLO_RESHAPE STABLEHLO_CLAMP STABLEHLO_CONCATENATE STABLEHLO_BROADCAST_IN_DIM STABLEHLO_CONVOLUTION
STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL STABLEHLO_REDUCE STABLEHLO_ABS STABLEHLO_AND STABLEHLO_COSINE
STABLEHLO_EXPONENTIAL STABLEHLO_FLOOR STABLEHLO_LOG STABLEHLO_MINIMUM STABLEHLO_NEGATE STABLEHLO_OR
STABLEHLO_POWER STABLEHLO_REMAINDER STABLEHLO_RSQRT STABLEHLO_SELECT STABLEHLO_SUBTRACT STABLEHLO_TANH
STABLEHLO_SCATTER STABLEHLO_COMPARE STABLEHLO_CONVERT STABLEHLO_DYNAMIC_SLICE
STABLEHLO_DYNAMIC_UPDATE_SLICE STABLEHLO_PAD STABLEHLO_IOTA STABLEHLO_DOT_GENERAL
STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT STABLEHLO_WHILE STABLEHLO_GATHER STABLEHLO_TRANSPOSE DILATE
STABLEHLO_RNG_BIT_GENERATOR REDUCE_WINDOW`.split(/\s+/);

const BUILTIN_BY_CODE = new Map<number, string>(BUILTINS.map((n, i) => [i, n]));
BUILTIN_BY_CODE.set(225, 'TEMP_STREAMING_CONV_2D');
const CODE_BY_BUILTIN = new Map<string, number>([...BUILTIN_BY_CODE].map(([c, n]) => [n, c]));

/** BuiltinOperator_CUSTOM: the op is named by OperatorCode.custom_code. */
export const BUILTIN_CUSTOM = 32;
/** Codes above this live only in OperatorCode.builtin_code (deprecated_builtin_code is a byte). */
export const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

export function builtinName(code: number): string | undefined {
  return BUILTIN_BY_CODE.get(code);
}

export function builtinCode(name: string): number | undefined {
  return CODE_BY_BUILTIN.get(name);
}

/**
 * Field numbers (declaration order in schema.fbs) of the tables read.
 *   Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
 *   OperatorCode: deprecated_builtin_code 0 (byte), custom_code 1, version 2 (int = 1), builtin_code 3 (int32).
 *   SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
 *   Tensor: shape 0, type 1 (byte), buffer 2 (uint), name 3, quantization 4, is_variable 5,
 *           sparsity 6, shape_signature 7.
 *   QuantizationParameters: min 0, max 1, scale 2 ([float]), zero_point 3 ([long]),
 *           details_type 4, details 5, quantized_dimension 6 (int). (A union field takes two ids.)
 *   Operator: opcode_index 0 (uint), inputs 1, outputs 2.
 *   Buffer: data 0 ([ubyte]), offset 1 (ulong), size 2 (ulong).
 */
export const F = {
  model: { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 },
  opcode: { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 },
  subgraph: { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 },
  tensor: { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, isVariable: 5, sparsity: 6, shapeSignature: 7 },
  quant: { scale: 2, zeroPoint: 3, detailsType: 4, quantizedDimension: 6 },
  operator: { opcodeIndex: 0, inputs: 1, outputs: 2 },
  buffer: { data: 0, offset: 1, size: 2 },
} as const;
