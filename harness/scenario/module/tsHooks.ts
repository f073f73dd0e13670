/**
 * Node module hooks (module.register, Node >= 20.6) that let `hil run` load custom check modules
 * written in TypeScript without a build step: a `.ts` or `.mts` file outside node_modules is
 * transpiled on load with TypeScript's transpileModule (types erased, one file at a time, no type
 * check: `npm run typecheck` in your own project does that), and a relative `./x.js` import from
 * such a file finds `./x.ts` when no `./x.js` exists (the TypeScript convention). Nothing is
 * written to disk. Runs in Node's loader thread; `typescript` is loaded there on the first `.ts`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface Diagnostic { messageText: string | { messageText: string }; start?: number }
type Transpile = (src: string, opts: Record<string, unknown>) => { outputText: string; diagnostics?: Diagnostic[] };
let transpile: Promise<Transpile> | undefined;

function typescript(): Promise<Transpile> {
  transpile ??= import('typescript').catch((e: unknown) => {
    transpile = undefined;
    throw new Error(`a TypeScript check module needs the 'typescript' package (npm install --save-dev typescript): ${(e as Error).message}`);
  }).then((m) => {
    const ts = (m as { default?: { transpileModule: Transpile } }).default ?? (m as unknown as { transpileModule: Transpile });
    return ts.transpileModule.bind(ts);
  });
  return transpile;
}

const isTs = (url: string) => url.startsWith('file:') && /\.m?ts$/.test(url) && !url.includes('/node_modules/');

interface ResolveContext { parentURL?: string }
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; format?: string | null; shortCircuit?: boolean }>;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    if (!relative || !context.parentURL || !isTs(context.parentURL) || (e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    const alt = specifier.endsWith('.js') ? `${specifier.slice(0, -3)}.ts` : specifier.endsWith('.mjs') ? `${specifier.slice(0, -4)}.mts` : `${specifier}.ts`;
    return next(alt, context);
  }
}

interface LoadContext { format?: string | null }
type NextLoad = (url: string, context: LoadContext) => Promise<{ format: string; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean }>;

export async function load(url: string, context: LoadContext, next: NextLoad) {
  if (!isTs(url)) return next(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, 'utf8');
  const out = (await typescript())(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: 99 /* ESNext */, target: 9 /* ES2022 */, inlineSourceMap: true, inlineSources: true, esModuleInterop: true },
  });
  // transpileModule reports syntax errors only (it type-checks nothing) and would still emit
  // something for a broken file: a syntax error must stop the load, as it does for JavaScript.
  const first = out.diagnostics?.[0];
  if (first) {
    const text = typeof first.messageText === 'string' ? first.messageText : first.messageText.messageText;
    const before = source.slice(0, first.start ?? 0).split('\n');
    throw new SyntaxError(`${file}:${before.length}:${before[before.length - 1]!.length + 1}: ${text}`);
  }
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
