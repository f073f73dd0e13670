/**
 * Custom check (JavaScript): once the application module is imported, the board still has the
 * free heap the product needs (TFLite Micro takes its tensor arena from what is left).
 *
 * options: { module: name to import, minFreeBytes: number }
 * @param {import('../../harness/index.js').ModuleCheckContext} ctx
 * @param {{ module?: string, minFreeBytes?: number }} options
 */
export async function check(ctx, options) {
  const t0 = performance.now();
  const name = options.module ?? 'app';
  const min = options.minFreeBytes ?? 0;
  const { value } = await ctx.query('board/heap_after_import.py', { module: name });
  const durationMs = performance.now() - t0;
  if (value.error) return { name: `heap:${name}`, status: 'failed', reason: value.error, durationMs, details: [] };
  const details = [`after import ${name}: ${value.free} bytes free, ${value.alloc} allocated`];
  if (value.free < min) {
    return { name: `heap:${name}`, status: 'failed', reason: `${value.free} bytes free after import ${name}, need ${min}`, durationMs, details };
  }
  return { name: `heap:${name}`, status: 'passed', durationMs, details };
}
