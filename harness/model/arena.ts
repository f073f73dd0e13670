/**
 * A lower-bound estimate of the tensor arena TFLM needs for a model, to judge it against the RAM
 * the board gives `ml` (profile field `mlRam`).
 *
 * OpenMV's backend (openmv/openmv lib/tflm/tflm_backend.cc, ml_backend_init_model) takes the
 * largest free block of the GC heap as a trial arena, runs AllocateTensors in it, then allocates
 * arena_used_bytes rounded up to 16 plus TF_ARENA_EXTRA (512) for the real interpreter; when the
 * trial fails ml.Model() raises ValueError "Failed to allocate tensors".
 *
 * What is counted:
 * - activations: every tensor without constant data is given a lifetime, from the first operator
 *   that writes it (0 for a subgraph input) to the last one that reads it (the end for a subgraph
 *   output); the peak over the execution order of the live tensors' sizes, each rounded up to 16
 *   bytes (TFLM's buffer alignment), is what any memory plan needs at least. TFLM's greedy planner
 *   can need more (fragmentation), never less;
 * - variable tensors (is_variable) for the whole run;
 * - persistent bookkeeping TFLM always allocates: one TfLiteEvalTensor per tensor (12 bytes on a
 *   32-bit board) and one node-and-registration record per operator (32 bytes), a lower bound;
 * - the backend's TF_ARENA_EXTRA (from the op table).
 * Not counted (so the estimate stays a lower bound): kernel scratch buffers (CMSIS-NN im2col and
 * the like), per-op data (per-channel multipliers and shifts), TfLiteTensor structs for inputs
 * and outputs, and the interpreter's own state. A model over the estimate surely fails; one under
 * it may still fail.
 */
import type { TfliteModel, TfliteSubgraph } from './tflite.js';

export const ARENA_ALIGN = 16;
const EVAL_TENSOR_BYTES = 12;
const NODE_BYTES = 32;

export interface ArenaEstimate {
  /** Peak of live activation bytes (largest subgraph). */
  activations: number;
  /** Bytes of variable tensors. */
  variables: number;
  /** TfLiteEvalTensor per tensor + node record per operator. */
  persistent: number;
  /** The backend's slack (TF_ARENA_EXTRA). */
  extra: number;
  /** The lower bound: activations + variables + persistent + extra. */
  total: number;
  /** Tensors whose size could not be known (a dimension of -1, or a type without a fixed size): not counted. */
  unsized: number;
}

const align = (n: number) => Math.ceil(n / ARENA_ALIGN) * ARENA_ALIGN;

function subgraphPeak(sg: TfliteSubgraph): { peak: number; variables: number; unsized: number } {
  const n = sg.operators.length;
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const isActivation = (t: number) => {
    const x = sg.tensors[t];
    return x !== undefined && x.constBytes === 0 && !x.isVariable;
  };
  const touch = (t: number, at: number) => {
    if (!isActivation(t)) return;
    first.set(t, Math.min(first.get(t) ?? at, at));
    last.set(t, Math.max(last.get(t) ?? at, at));
  };
  for (const t of sg.inputs) touch(t, 0);
  sg.operators.forEach((op, i) => {
    for (const t of op.outputs) if (t >= 0) touch(t, i);
    for (const t of op.inputs) if (t >= 0) touch(t, i);
  });
  for (const t of sg.outputs) touch(t, Math.max(0, n - 1));
  // A tensor read before any operator writes it (and not a subgraph input) lives from the start.
  for (const t of last.keys()) {
    const written = sg.operators.some((op) => op.outputs.includes(t));
    if (!written) first.set(t, 0);
  }
  let unsized = 0;
  const sizes = new Map<number, number>();
  for (const t of first.keys()) {
    const b = sg.tensors[t]!.bytes;
    if (b === undefined) unsized++;
    else sizes.set(t, align(b));
  }
  let peak = 0;
  const steps = Math.max(1, n);
  // Sweep: add at first, remove after last.
  const delta = new Array<number>(steps + 1).fill(0);
  for (const [t, s] of sizes) {
    delta[first.get(t)!]! += s;
    delta[last.get(t)! + 1]! -= s;
  }
  let live = 0;
  for (let i = 0; i < steps; i++) {
    live += delta[i]!;
    if (live > peak) peak = live;
  }
  let variables = 0;
  for (const t of sg.tensors) {
    if (!t.isVariable) continue;
    if (t.bytes === undefined) unsized++;
    else variables += align(t.bytes);
  }
  return { peak, variables, unsized };
}

export function estimateArena(model: TfliteModel, extra: number): ArenaEstimate {
  let activations = 0;
  let variables = 0;
  let unsized = 0;
  let tensors = 0;
  let ops = 0;
  for (const sg of model.subgraphs) {
    const p = subgraphPeak(sg);
    activations = Math.max(activations, p.peak);
    variables += p.variables;
    unsized += p.unsized;
    tensors += sg.tensors.length;
    ops += sg.operators.length;
  }
  const persistent = align(tensors * EVAL_TENSOR_BYTES) + align(ops * NODE_BYTES);
  return { activations, variables, persistent, extra, total: activations + variables + persistent + extra, unsized };
}
