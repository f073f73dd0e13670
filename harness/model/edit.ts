/**
 * Locating fields of a TFLite model's bytes, for data edits in tests and benchmarks (an operator
 * code changed, a tensor type changed): the byte position of a field as the flatbuffer stores it.
 */
import { FlatBuffer, type Table } from './flatbuffer.js';
import { F } from './schema.js';

function root(bytes: Uint8Array): Table {
  return new FlatBuffer(bytes).root('Model');
}

/** Positions of OperatorCode `i`'s two code fields (undefined: absent, the default applies). */
export function opcodeFieldPositions(bytes: Uint8Array, i: number): { deprecated?: number; builtin?: number } {
  const t = root(bytes).tables(F.model.operatorCodes, 'operator_codes')[i];
  if (!t) throw new Error(`the model has no operator code ${i}`);
  return { deprecated: t.field(F.opcode.deprecatedBuiltinCode, 1, 'deprecated_builtin_code'), builtin: t.field(F.opcode.builtinCode, 4, 'builtin_code') };
}

/** Position of the type byte of tensor `t` in subgraph `sg` (undefined: absent, FLOAT32). */
export function tensorTypePosition(bytes: Uint8Array, sg: number, t: number): number | undefined {
  const s = root(bytes).tables(F.model.subgraphs, 'subgraphs')[sg];
  const x = s?.tables(F.subgraph.tensors, 'tensors')[t];
  if (!x) throw new Error(`the model has no tensor ${t} in subgraph ${sg}`);
  return x.field(F.tensor.type, 1, 'type');
}

/** Position of Model.version (undefined: absent, 0). */
export function versionPosition(bytes: Uint8Array): number | undefined {
  return root(bytes).field(F.model.version, 4, 'version');
}
