/**
 * hil's public API: everything the `hil` command does, as typed functions for a team's own tests.
 * Each layer appends its exports in its own block.
 */

// Errors and exit codes (every thrown HilError carries the exit code the CLI would use).
export { HilError, UsageError, ConfigError, InfraError, ExitCode, oneLine, type ExitCodeValue } from './errors.js';

// Board profiles.
export { loadProfile, listProfiles, type BoardProfile } from './profile/profile.js';

// The device contract, and opening a board (path, id:SERIAL, socket://, qemu, sim, sim:PROFILE).
export type { Device, ExecOptions, ExecResult, Transcript, TranscriptRecord, BinaryReceiver } from './device/types.js';
export { openDevice, type OpenDeviceOptions, DeviceExceptionError } from './device/index.js';

// The simulated board.
export { startSim, type StartSimOptions, type SimBoard } from './sim/index.js';

// Flash (issue 4).
export { flashImage, type FlashOptions, type FlashResult } from './flash/flashImage.js';

// Scenarios, runs and results (issue 5).
export { loadScenario, parseScenario, resolveScenarioDir } from './scenario/loadScenario.js';
export { runScenario, type RunScenarioOptions } from './scenario/runScenario.js';
export { resolveImage, describeImage } from './scenario/resolveImage.js';
export type { ScenarioDefinition, CheckSpec, ImageSpec, FlashMode, ListingOptions, ImportsOptions, ModelsOptions, EntryPoint } from './scenario/definition.js';
export type { CheckContext, CheckFn, ScenarioImage, ImageFile } from './scenario/context.js';
export type { ModuleCheckContext, QueryOptions as CheckQueryOptions } from './scenario/module/moduleContext.js';
export { countChecks, exitCodeFor, type CheckResult, type CheckStatus, type ScenarioResult, type DeviceRunResult, type RunResult, type RunCounts } from './scenario/result.js';
export { ScenarioConfigError } from './scenario/errors.js';
export { runScenarios, type RunScenariosOptions } from './bench/runScenarios.js';
export { runBench, runOnTarget, leaseKey, type RunBenchOptions, type BenchEvent } from './bench/runBench.js';
export { readBenchFile, type BenchFile, type BenchTarget } from './bench/inventory.js';
export { resolveTargets } from './bench/targets.js';
export { acquireLease, defaultLockDir, LeaseBusyError, type Lease, type LeaseOptions, type LeaseHolder } from './bench/lease.js';
export { toJUnit, writeJUnit } from './report/junit.js';
export { toJsonReport, writeJsonReport } from './report/json.js';
export { formatConsole } from './report/console.js';

// ROMFS images (issue 2): build, inspect, verify; the strict parser; .mpy headers and file kinds.
export {
  buildImage, rulesFromProfile, parseAlignOverride, inspectImage, formatInspection, verifyImage, formatProblem,
  parseRomfs, mpyHeader, mpyLoadProblem, fileKind, readRomfsConfig, defaultCacheDir, formatUsage,
  RomfsFormatError, RomfsBuildError, MpyCompileError,
  verifyStructure, mountVfsRom, VfsRomError, firmwareView, isModelFile, modelFormatOf, misalignedModelData,
  type VfsRom, type FirmwareView, type FirmwareEntry, type ModelPlacement, type VerifyOptions,
  type BuildOptions, type BuildResult, type BuiltEntry, type AlignRule, type AlignRules, type Inspection,
  type InspectedEntry, type VerifyProblem, type RomfsImage, type RomfsEntry, type MpyHeader, type FileKind,
} from './romfs/index.js';

// Run history (issue 13): the store (SQLite or PostgreSQL), provenance, regressions and flaky checks.
export {
  openHistory, recordRunQuietly, resolveHistoryLocation, HistoryStore, type HistoryLocation, type RunRow, type ResultRow,
  type DeviceState, type DeviceStateRow, type ResultFilter, type RunProvenance,
} from './history/index.js';
export { findRegressions, findFlaky, type RegressionEntry, type FlakyEntry, type FlakyReport } from './history/queries.js';
export { classifyError } from './scenario/failureClass.js';

// Lifecycle: the scope a command's leases, boards and children live in (aborted by a signal).
export { Scope, SIGNAL_EXIT } from './lifecycle/index.js';

// Leases (issue 16): one interface, local lock files or PostgreSQL, with fencing.
export {
  openLeaseStore, FileLeaseStore, PgLeaseStore, LeaseLostError,
  type LeaseStore, type LeaseStoreOptions, type HeldLease, type LeaseRecord, type LeaseHolderInfo, type AcquireOptions,
} from './bench/leases/index.js';

// Models (issue 14): TFLite and NBIN parsing, op tables, arena estimate, per-profile model checks.
export {
  parseTflite, isTflite, opName, parseNbin, isNbin, estimateArena, loadOpTable, listOpTables, describeModel, checkModel,
  ModelFormatError, OpTableError,
  type TfliteModel, type TfliteTensor, type NbinHeader, type ArenaEstimate, type OpTable, type ModelFacts, type ModelCheck, type ModelFinding,
} from './model/index.js';
