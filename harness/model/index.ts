/**
 * Model parsing and checks (issue 14): TFLite flatbuffers and ST NBIN headers, the op fact tables
 * of devices/ops, the tensor arena estimate, and the per-profile checks. Stands alone: imports
 * nothing from the other harness folders except profile types.
 */
export { ModelFormatError, OpTableError } from './errors.js';
export { parseTflite, isTflite, opName, type TfliteModel, type TfliteTensor, type TfliteSubgraph, type TfliteOperatorCode } from './tflite.js';
export { readModelIo, type ModelIo, type TensorInfo } from './io.js';
export { parseNbin, isNbin, type NbinHeader } from './nbin.js';
export { estimateArena, type ArenaEstimate } from './arena.js';
export { loadOpTable, listOpTables, type OpTable } from './opTable.js';
export { describeModel, checkModel, type ModelFacts, type ModelCheck, type ModelFinding, type FindingCode } from './check.js';
