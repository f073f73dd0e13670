/**
 * `.py` → `.mpy` with mpy-cross: the WebAssembly build from npm (`@pybricks/mpy-cross-v6`) by
 * default, or a native `mpy-cross` binary. Results are cached by content hash (compiler identity,
 * source name, source bytes) in `<cacheDir>/mpy/`, so an unchanged file is never compiled twice.
 * A syntax error becomes an MpyCompileError naming the file and line.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MpyCompileError, RomfsBuildError } from './errors.js';

export interface MpyCompiler {
  /** Identity that goes into the cache key (changes when the compiler changes). */
  readonly id: string;
  /** Compile `source`; `sourceName` is what the .mpy records as its file name; `file` names it in errors. */
  compile(source: Uint8Array, sourceName: string, file: string): Promise<Uint8Array>;
}

const require = createRequire(import.meta.url);

/** Turn mpy-cross's traceback into one line: `file:LINE: SyntaxError: ...`. */
export function compileErrorFrom(lines: string[], file: string): MpyCompileError {
  const text = lines.join('\n');
  const lm = /line (\d+)/.exec(text);
  const line = lm ? Number(lm[1]) : undefined;
  const last = lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('Traceback') && !l.startsWith('File ')).pop() ?? 'mpy-cross failed';
  return new MpyCompileError(`${file}${line !== undefined ? `:${line}` : ''}: ${last}`, file, line);
}

type WasmCompile = (name: string, contents: string, options?: string[], wasmPath?: string) => Promise<{ status: number; mpy?: Uint8Array; out: string[]; err: string[] }>;

/**
 * The WebAssembly mpy-cross is not re-entrant (two overlapping compiles in one process hang), so
 * every wasm compiler in the process shares one queue. This is the one piece of module state here.
 */
let wasmQueue: Promise<unknown> = Promise.resolve();
const WASM_COMPILE_DEADLINE_MS = 60_000;

/** The WebAssembly mpy-cross (mpy version 6, bytecode). */
export function wasmMpyCross(): MpyCompiler {
  const pkgJson = require.resolve('@pybricks/mpy-cross-v6/package.json');
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const wasmPath = require.resolve('@pybricks/mpy-cross-v6/build/mpy-cross-v6.wasm');
  // Loaded at the first compile, not here: a build whose every .py comes from the cache (or an
  // image cache hit) never loads the WebAssembly module.
  let compile: WasmCompile | undefined;
  return {
    id: `wasm:@pybricks/mpy-cross-v6@${version}`,
    compile(source, sourceName, file) {
      const run = async (): Promise<Uint8Array> => {
        const before = { ue: process.listeners('uncaughtException'), ur: process.listeners('unhandledRejection') };
        const g = globalThis as { fetch?: unknown };
        const savedFetch = g.fetch;
        // Under Node the emscripten loader would fetch() a file path; hidden only while it starts
        // (instantiation begins synchronously inside compile()).
        g.fetch = undefined;
        let pending;
        try {
          compile ??= (require('@pybricks/mpy-cross-v6') as { compile: WasmCompile }).compile;
          pending = compile('input.py', new TextDecoder().decode(source), ['-s', sourceName], wasmPath);
        } finally {
          g.fetch = savedFetch;
        }
        try {
          let timer: NodeJS.Timeout | undefined;
          const r = await Promise.race([
            pending,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new MpyCompileError(`${file}: mpy-cross (WebAssembly) did not finish within ${WASM_COMPILE_DEADLINE_MS / 1000} s`, file)), WASM_COMPILE_DEADLINE_MS);
            }),
          ]).finally(() => clearTimeout(timer));
          if (r.status !== 0 || !r.mpy) throw compileErrorFrom([...r.err, ...r.out], file);
          return new Uint8Array(r.mpy);
        } finally {
          // The emscripten module installs process-wide handlers on every run: take them off again.
          for (const l of process.listeners('uncaughtException')) if (!before.ue.includes(l)) process.off('uncaughtException', l);
          for (const l of process.listeners('unhandledRejection')) if (!before.ur.includes(l)) process.off('unhandledRejection', l);
        }
      };
      const p = wasmQueue.then(run, run);
      wasmQueue = p.catch(() => undefined);
      return p;
    },
  };
}

/** A native mpy-cross binary at `path`. */
export function nativeMpyCross(path: string, timeoutMs = 60_000): MpyCompiler {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new RomfsBuildError(`--mpy-cross ${path}: no such file`, path);
  }
  return {
    id: `native:${path}:${st.size}:${st.mtimeMs}`,
    async compile(source, sourceName, file) {
      const dir = mkdtempSync(join(tmpdir(), 'hil-mpy-'));
      try {
        const inp = join(dir, 'input.py');
        const out = join(dir, 'output.mpy');
        writeFileSync(inp, source);
        await new Promise<void>((resolve, reject) => {
          execFile(path, ['-s', sourceName, '-o', out, inp], { timeout: timeoutMs }, (err, stdout, stderr) => {
            if (!err) return resolve();
            const e = err as NodeJS.ErrnoException & { killed?: boolean };
            if (e.code === 'ENOENT' || e.code === 'EACCES') return reject(new RomfsBuildError(`--mpy-cross ${path}: cannot run (${e.code})`, path));
            if (e.killed) return reject(new RomfsBuildError(`${file}: mpy-cross did not finish within ${timeoutMs} ms`, file));
            reject(compileErrorFrom(`${stderr}\n${stdout}`.split('\n'), file));
          });
        });
        return new Uint8Array(readFileSync(out));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Wrap a compiler with a content-hash cache in `<cacheDir>/mpy/` (no cache when cacheDir is undefined). */
export function cachedCompiler(inner: MpyCompiler, cacheDir: string | undefined): MpyCompiler {
  if (!cacheDir) return inner;
  const dir = join(cacheDir, 'mpy');
  return {
    id: inner.id,
    async compile(source, sourceName, file) {
      const key = createHash('sha256').update(inner.id).update('\0').update(sourceName).update('\0').update(source).digest('hex');
      const path = join(dir, `${key}.mpy`);
      try {
        return new Uint8Array(readFileSync(path));
      } catch {
        // not cached yet
      }
      const mpy = await inner.compile(source, sourceName, file);
      try {
        mkdirSync(dir, { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, mpy);
        renameSync(tmp, path);
      } catch {
        // A cache that cannot be written only costs time.
      }
      return mpy;
    },
  };
}
