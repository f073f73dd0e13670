/**
 * Run one scenario on one open board: resolve the image (build or take it), flash it unless the
 * board already holds it (hash-compared by flashImage), soft reset, run the checks in order.
 * Never throws for a board or check problem: everything lands in the ScenarioResult (a check that
 * hits an infrastructure error is `error`, the checks after it are not attempted).
 */
import type { Device } from '../device/types.js';
import { OTHER_BOARD_PHASE } from '../device/identify.js';
import { HilError, ExitCode, oneLine } from '../errors.js';
import { flashImage } from '../flash/flashImage.js';
import type { TransferPlan } from '../flash/planTransfer.js';
import type { CheckContext, ScenarioImage } from './context.js';
import type { FlashMode, ScenarioDefinition } from './definition.js';
import { imageSpecFor, loadScenario } from './loadScenario.js';
import { resolveImage } from './resolveImage.js';
import { CHECK_STATUSES, type CheckResult, type CheckStatus, type FailureClass, type FlashSummary, type ScenarioResult } from './result.js';
import { listingCheck } from './checks/listing.js';
import { importsCheck } from './checks/imports.js';
import { modelsCheck } from './checks/models.js';
import { importCheckModule } from './module/importCheck.js';
import { moduleContext, type ModuleCheckContext } from './module/moduleContext.js';
import { resolve } from 'node:path';
import { classifyError, withFailureClass } from './failureClass.js';

export interface RunScenarioOptions {
  /** Use this image instead of the scenario's (source dir, romfs_config.json or .img). */
  image?: string;
  /** Override the scenario's flash mode. */
  flash?: FlashMode;
  /** The board is hil's simulated board (model inference can only be `simulated`). */
  simulatedBoard?: boolean;
  /** How the image is obtained (default resolveImage; a bench shares one build among its boards). */
  resolveImage?: typeof resolveImage;
  /** Transfer plans shared by the boards of one run (see flashImage's planCache). */
  flashPlans?: Map<string, TransferPlan>;
  /** Device log lines (flash decisions, check summaries). */
  log?: (line: string) => void;
  /** Called as each check finishes (for live console output). */
  onCheck?: (result: CheckResult) => void;
  /** `--record-golden`: the models check records the board's outputs as golden (a trusted board). */
  recordGolden?: boolean;
  /**
   * The board was booted for this run by hil (QEMU it started) and has run nothing since but hil's
   * read-only queries (its identity): when the flash then finds the image already in the
   * partition (hash-compared, nothing written), the boot mounted these very bytes, and the soft
   * reset before the checks would give the board it already is. It is skipped then, and only then.
   */
  freshBoot?: boolean;
}

function errorOf(e: unknown): { message: string; exitCode: number; phase?: string; failureClass: FailureClass } {
  if (e instanceof HilError) return { message: oneLine(e), exitCode: e.exitCode, phase: (e as { phase?: string }).phase, failureClass: classifyError(e) };
  return { message: `internal error: ${oneLine(e)}`, exitCode: ExitCode.INFRA, failureClass: 'harness' };
}

/**
 * What a custom check returned, validated: each result must be an object with a `status` hil
 * knows (passed, failed, skipped, simulated, error), a string `name` when given, a string
 * `reason`, a list of strings `details` and a number `durationMs` when given. Anything else (an
 * unknown status such as 'fail', 'FAIL' or 'ok', a malformed result, no result at all) is one
 * `error` result naming the module and what was wrong: it is never counted as a pass.
 */
export function validateModuleResults(raw: unknown, name: string, path: string, durationMs: number): CheckResult[] {
  const bad = (why: string): CheckResult[] => [{ name, status: 'error', reason: `${path}: ${why}`, durationMs, details: [], failureClass: 'config' }];
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) return bad('check returned no results (an empty list)');
  const out: CheckResult[] = [];
  for (const [i, x] of list.entries()) {
    const at = Array.isArray(raw) ? `result ${i}` : 'result';
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return bad(`${at} is not an object (got ${x === null ? 'null' : Array.isArray(x) ? 'a list' : typeof x})`);
    const r = x as Record<string, unknown>;
    if (typeof r.status !== 'string' || !(CHECK_STATUSES as readonly string[]).includes(r.status)) {
      return bad(`${at} has status ${JSON.stringify(r.status) ?? 'undefined'}, not one of ${CHECK_STATUSES.join(', ')}`);
    }
    if (r.name !== undefined && (typeof r.name !== 'string' || r.name.length === 0)) return bad(`${at} has a name that is not a non-empty string`);
    if (r.reason !== undefined && typeof r.reason !== 'string') return bad(`${at} has a reason that is not a string`);
    if (r.details !== undefined && !(Array.isArray(r.details) && r.details.every((d) => typeof d === 'string'))) return bad(`${at} has details that are not a list of strings`);
    if (r.durationMs !== undefined && (typeof r.durationMs !== 'number' || !Number.isFinite(r.durationMs) || r.durationMs < 0)) return bad(`${at} has a durationMs that is not a number of milliseconds`);
    out.push({
      ...(r as object),
      name: (r.name as string | undefined) ?? name,
      status: r.status as CheckStatus,
      ...(r.reason !== undefined ? { reason: r.reason as string } : {}),
      details: (r.details as string[] | undefined) ?? [],
      durationMs: (r.durationMs as number | undefined) ?? durationMs,
    });
  }
  return out;
}

class CheckDeadline extends Error {}

async function runModuleCheck(ctx: CheckContext, name: string, path: string, options: Record<string, unknown>): Promise<CheckResult[]> {
  const t0 = performance.now();
  const mod = await importCheckModule(path);
  const fn = (typeof mod.check === 'function' ? mod.check : mod.default) as ((c: ModuleCheckContext, o: Record<string, unknown>) => Promise<unknown>) | undefined;
  if (typeof fn !== 'function') throw new HilError(`${path}: a check module must export a function 'check(ctx, options)'`, ExitCode.USAGE);
  let r: unknown;
  let timer: NodeJS.Timeout | undefined;
  try {
    // The check's deadline (checkTimeoutMs) holds for a custom check too: one that never resolves
    // is ended as an error, not waited for forever.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckDeadline(`${path}: check did not finish within ${ctx.timeoutMs} ms (checkTimeoutMs)`)), ctx.timeoutMs);
    });
    r = await Promise.race([fn(moduleContext(ctx, path), options), deadline]);
  } catch (e) {
    if (e instanceof CheckDeadline) return [{ name, status: 'error', reason: e.message, durationMs: performance.now() - t0, details: [], failureClass: 'board' }];
    // hil's own errors (a link fault in a board round trip) keep their meaning; anything else
    // the module threw is that check's error, naming the module: the other checks still run.
    if (e instanceof HilError) throw e;
    // The check module's own bug (the team's code, not hil's, not the board's): config.
    return [{ name, status: 'error', reason: `${path}: check threw ${e instanceof Error ? `${e.name}: ${oneLine(e)}` : oneLine(e)}`, durationMs: performance.now() - t0, details: [], failureClass: 'config' }];
  } finally {
    clearTimeout(timer);
  }
  return validateModuleResults(r, name, path, performance.now() - t0);
}

export async function runScenario(device: Device, scenario: ScenarioDefinition | string, opts: RunScenarioOptions = {}): Promise<ScenarioResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const def = typeof scenario === 'string' ? loadScenario(scenario) : scenario;
  const result: ScenarioResult = { scenario: def.name, path: def.dir, device: device.name, profile: device.profile.name, checks: [], durationMs: 0 };
  const done = () => {
    result.durationMs = performance.now() - t0;
    return result;
  };

  let image: ScenarioImage;
  try {
    const spec = opts.image ? imageSpecFor(resolve(opts.image)) : def.image;
    image = await (opts.resolveImage ?? resolveImage)(spec, device.profile);
    result.image = {
      source: image.source, kind: image.kind, bytes: image.bytes.length, sha256: image.sha256, files: image.files.length,
      fileSha256: Object.fromEntries(image.files.map((f) => [f.path, f.sha256])),
    };
    log(`image ${image.source}: ${image.bytes.length} bytes, ${image.files.length} files, sha256 ${image.sha256}`);
  } catch (e) {
    result.error = { ...errorOf(e), phase: 'image' };
    return done();
  }

  const mode = opts.flash ?? def.flash;
  // The flash wrote, soft reset the board and proved there (hash and /rom listing) that the
  // firmware mounted these bytes (harness/flash/verifyFlash.ts proveAfterReset).
  let provenAfterReset = false;
  if (mode !== 'never') {
    const tf = performance.now();
    try {
      const r = await flashImage(device, {
        // Parsed and walked once per image (a bench's boards share it), not once per board.
        prepared: image.prepared,
        force: mode === 'always',
        // The scenario's checks report misplaced models precisely; flashing must not stop them.
        allowMisaligned: true,
        // Likewise an image the firmware reads differently: listing FAILs naming the file.
        allowFirmwareFaults: true,
        onProgress: false,
        planCache: opts.flashPlans,
      });
      const summary: FlashSummary = { written: !r.skipped, strategy: r.strategy ?? undefined, verifiedSha256: r.verifiedSha256, durationMs: performance.now() - tf, mode };
      result.flash = summary;
      provenAfterReset = !r.skipped && r.mountChecked && r.verifiedSha256 === image.sha256;
      log(r.skipped ? `flash: board already holds the image (sha256 ${r.verifiedSha256}); nothing written` : `flash: wrote ${r.imageBytes} bytes with ${r.strategy}, board sha256 ${r.verifiedSha256} matches`);
      for (const w of r.warnings) log(`flash warning: ${w}`);
    } catch (e) {
      result.flash = { written: false, durationMs: performance.now() - tf, mode };
      const err = errorOf(e);
      // Keep the step that failed inside the flash (erase, transfer, hash...) in the phase.
      result.error = { ...err, phase: err.phase ? `flash ${err.phase}` : 'flash' };
      log(`flash failed: ${result.error.message}`);
      return done();
    }
  } else {
    result.flash = { written: false, durationMs: 0, mode };
  }

  // A flash that wrote nothing on a board booted just now with those bytes: no reset to remount.
  const bootedWithImage = opts.freshBoot === true && mode !== 'never' && result.flash?.written === false && result.flash.verifiedSha256 === image.sha256;
  if (def.softReset && bootedWithImage) {
    log(`soft reset: not needed (the board booted with this image, sha256 ${image.sha256}, and has run only hil's read-only queries since)`);
  } else if (def.softReset && provenAfterReset) {
    // The board is the one a reset now would give: only the proof's read-only query ran since.
    log(`soft reset: not needed (the flash soft reset the board after writing and proved /rom mounts this image, sha256 ${image.sha256}; only that read-only query ran since)`);
  } else if (def.softReset) {
    try {
      await device.softReset({ timeoutMs: 30_000 });
      log('soft reset: raw REPL back');
    } catch (e) {
      const err = errorOf(e);
      result.error = { ...err, phase: err.phase && err.phase !== 'soft-reset' ? `soft-reset ${err.phase}` : 'soft-reset' };
      return done();
    }
  }

  const ctx: CheckContext = {
    device, profile: device.profile, image, scenario: def, simulatedBoard: opts.simulatedBoard ?? false, recordGolden: opts.recordGolden, timeoutMs: def.checkTimeoutMs, log,
  };
  let broken: string | undefined;
  let brokenClass: FailureClass = 'board';
  for (const spec of def.checks) {
    const name = spec.kind === 'module' ? `module:${spec.path.split(/[\\/]/).pop()}` : spec.kind;
    const add = (r: CheckResult) => {
      // Every failed or error result leaves here with a failure class (a check's own, if valid).
      result.checks.push(withFailureClass(r));
      log(`check ${r.name}: ${r.status}${r.reason ? ` (${r.reason})` : ''} in ${r.durationMs.toFixed(0)} ms`);
      opts.onCheck?.(r);
    };
    if (broken) {
      add({ name, status: 'error', reason: `not attempted: ${broken}`, durationMs: 0, details: [], failureClass: brokenClass });
      continue;
    }
    const tc = performance.now();
    try {
      let out: CheckResult | CheckResult[];
      switch (spec.kind) {
        case 'listing': out = await listingCheck(ctx, spec.options); break;
        case 'imports': out = await importsCheck(ctx, spec.options); break;
        case 'models': out = await modelsCheck(ctx, spec.options); break;
        case 'module': out = await runModuleCheck(ctx, name, spec.path, spec.options); break;
      }
      for (const r of Array.isArray(out) ? out : [out]) add(r);
      // Another board answered after a crash (checks/crash.ts): nothing more is run on it.
      const other = (Array.isArray(out) ? out : [out]).find((r) => r.status === 'error' && (r.data as { phase?: unknown } | undefined)?.phase === OTHER_BOARD_PHASE);
      if (other) {
        broken = `an earlier check found another board (${other.reason})`;
        brokenClass = 'board';
      }
    } catch (e) {
      const err = errorOf(e);
      if (err.exitCode === ExitCode.USAGE) {
        add({ name, status: 'error', reason: err.message, durationMs: performance.now() - tc, details: [], failureClass: err.failureClass });
        continue;
      }
      broken = `an earlier check hit an infrastructure error (${err.message})`;
      brokenClass = err.failureClass;
      add({ name, status: 'error', reason: err.message, durationMs: performance.now() - tc, details: [], data: { exitCode: err.exitCode, phase: err.phase }, failureClass: err.failureClass });
    }
  }
  return done();
}
