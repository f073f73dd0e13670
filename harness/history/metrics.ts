/**
 * Figures the history keeps as columns of their own (schema v2), so reading trends never parses a
 * result's evidence: the first-inference latency per model a models.inference result reports,
 * and an attempt's flash duration and whether it wrote anything.
 */

export interface ModelLatency {
  model: string;
  ms: number;
}

/** Per-model first-inference latency in a models.inference result's data (ms), where reported. */
export function inferenceLatencies(data: unknown): ModelLatency[] {
  const list = Array.isArray(data) ? data : data && typeof data === 'object' && Array.isArray((data as { models?: unknown }).models) ? (data as { models: unknown[] }).models : [];
  const out: ModelLatency[] = [];
  for (const m of list) {
    if (!m || typeof m !== 'object') continue;
    const o = m as Record<string, unknown>;
    // models.inference's own data (checks/inference.ts InferenceModel): latency.firstMs
    const lat = o.latency && typeof o.latency === 'object' ? (o.latency as Record<string, unknown>) : {};
    const ms = [lat.firstMs, o.firstInferenceMs, o.latencyMs, o.inferenceMs].find((v) => typeof v === 'number' && Number.isFinite(v)) as number | undefined;
    const model = typeof o.path === 'string' ? o.path : typeof o.model === 'string' ? o.model : undefined;
    if (model !== undefined && ms !== undefined) out.push({ model, ms });
  }
  return out;
}

/** The check whose data carries latencies. */
export const INFERENCE_CHECK = 'models.inference';

/** An attempt's flash summary as the two columns: its duration (ms) and whether it wrote the image. */
export function flashColumns(flash: unknown): { ms: number | null; written: number | null } {
  if (!flash || typeof flash !== 'object') return { ms: null, written: null };
  const f = flash as { durationMs?: unknown; written?: unknown };
  return { ms: typeof f.durationMs === 'number' && Number.isFinite(f.durationMs) ? f.durationMs : null, written: typeof f.written === 'boolean' ? (f.written ? 1 : 0) : null };
}
