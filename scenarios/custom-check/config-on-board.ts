/**
 * Custom check (TypeScript): the JSON config the board reads under /rom is byte-for-byte the
 * image's, and holds the settings the product needs. `hil run` loads this file as it is (types
 * erased on load); `import type` lines vanish at run time, so they cost nothing on a cam bench.
 *
 * options: { file: path inside the image, require: { key: value, ... } }
 */
import type { CheckResult, ModuleCheckContext } from '../../harness/index.js';

interface Options {
  file?: string;
  require?: Record<string, unknown>;
}

type Answer = { value: unknown; size: number } | { error: string };

export async function check(ctx: ModuleCheckContext, options: Options): Promise<CheckResult> {
  const t0 = performance.now();
  const file = options.file ?? 'config.json';
  const inImage = ctx.image.files.find((f) => f.path === file);
  const result = (status: CheckResult['status'], reason: string | undefined, details: string[]): CheckResult => ({
    name: `config:${file}`, status, ...(reason ? { reason } : {}), durationMs: performance.now() - t0, details,
  });
  if (!inImage) return result('failed', `${file} is not in the image (${ctx.image.source})`, []);

  const { value: answer } = await ctx.query<Answer>('board/read_json.py', { path: `/rom/${file}` });
  if ('error' in answer) return result('failed', answer.error, []);
  const details = [`/rom/${file}: ${answer.size} bytes on the board, ${inImage.size} in the image`];
  if (answer.size !== inImage.size) return result('failed', `/rom/${file} is ${answer.size} bytes on the board, ${inImage.size} in the image`, details);

  const config = answer.value as Record<string, unknown>;
  for (const [key, want] of Object.entries(options.require ?? {})) {
    const got = config?.[key];
    details.push(`${key}: ${JSON.stringify(got)}`);
    if (JSON.stringify(got) !== JSON.stringify(want)) return result('failed', `${key} is ${JSON.stringify(got)} on the board, expected ${JSON.stringify(want)}`, details);
  }
  return result('passed', undefined, details);
}
