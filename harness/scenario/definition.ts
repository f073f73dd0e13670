/**
 * The scenario definition: a folder holding `scenario.yaml` (or `scenario.json`) that names the
 * image, whether to flash, and the checks with their options. Declarative for everything the
 * built-in checks do; a check of kind `module` points at a JavaScript module (or TypeScript when
 * run under a TS loader such as Jest) exporting `check(ctx)` for what YAML cannot say.
 *
 * ```yaml
 * name: model-load
 * image: { source: ../../images/demo }     # or { config: x/romfs_config.json } or { file: x.img }
 * flash: auto                               # auto (when the board does not hold it) | always | never
 * checks:
 *   - listing
 *   - imports: { entryPoints: [app.run] }
 *   - models: { inference: true }
 *   - module: ./extra-check.js
 * ```
 */
export type FlashMode = 'auto' | 'always' | 'never';

export type ImageSpec =
  | { kind: 'source'; path: string }
  | { kind: 'config'; path: string }
  | { kind: 'img'; path: string };

export interface ListingOptions {
  /** Compute a sha256 of every file on the board and compare (default true). */
  sha256: boolean;
}

export interface EntryPoint {
  /** `module.function`, e.g. `app.run`, called with no arguments. */
  call: string;
  /** When given, the call's return value (as JSON) must equal this. */
  expect?: unknown;
}

export interface ImportsOptions {
  /** Paths that must be on sys.path (default ['/rom', '/rom/lib']). */
  paths: string[];
  /** Modules to import in addition to (or, with `discover: false`, instead of) those found in the image. */
  modules: string[];
  /** Import every package and module found in the image (default true). */
  discover: boolean;
  /** Callables to call after importing. */
  entryPoints: EntryPoint[];
  /** `__file__` of every imported module must start with this (default '/rom/'). */
  fileUnder: string;
}

/**
 * The input a model is fed: zeros (the default), a seeded byte pattern (float tensors: values in
 * [0, 1)), a raw tensor file from the image (exactly the tensor's bytes), or an image file from
 * the image fed through OpenMV's `image` module and ml.preprocessing.Normalization (where the
 * firmware has them).
 */
export type ModelInput =
  | { kind: 'zeros' }
  | { kind: 'pattern'; seed: number }
  | { kind: 'file'; path: string }
  | { kind: 'image'; path: string };

export interface ModelsOptions {
  /** Run the inference (ml.Model + predict on a deterministic input); default true. */
  inference: boolean;
  /** Inputs by model path (image path under /rom); models not named get zeros. */
  inputs: Record<string, ModelInput>;
  /**
   * Largest absolute difference allowed between an output value and the golden one, by model
   * path (default exact). For float outputs or another firmware.
   */
  tolerance: Record<string, number>;
  /** Golden outputs folder (absolute; default `golden/` in the scenario folder): `<model>.json` each. */
  goldenDir: string;
  /** Then all models again in reverse order; an output that differs between the passes FAILs (default true). */
  sequence: boolean;
  /** Predicts after the first one, timed for the steady latency (default 3). */
  runs: number;
  /** Expected output shapes by model path (else the model's own `output_shape` is expected). */
  outputShapes: Record<string, number[][]>;
  /** Require at least one model in the image (default true). */
  requireModels: boolean;
}

export type CheckSpec =
  | { kind: 'listing'; options: ListingOptions }
  | { kind: 'imports'; options: ImportsOptions }
  | { kind: 'models'; options: ModelsOptions }
  | { kind: 'module'; path: string; options: Record<string, unknown> };

export interface ScenarioDefinition {
  name: string;
  description: string;
  /** Absolute path of the scenario folder. */
  dir: string;
  /** The definition file. */
  file: string;
  image: ImageSpec;
  flash: FlashMode;
  /** Soft reset before the checks (default true). */
  softReset: boolean;
  /** Deadline for each check's board round trips (ms, default 60000). */
  checkTimeoutMs: number;
  checks: CheckSpec[];
}
