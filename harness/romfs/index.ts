/** The ROMFS image toolchain: build, inspect and verify images. Stands alone (no device imports). */
export { ENTRY_SCRIPTS, isEntryScript } from './entryScripts.js';
export { buildImage, type BuildOptions, type BuildResult, type BuiltEntry, type BuiltFileEntry, type BuiltDirEntry, type BuildUsage } from './build.js';
export { rulesFromProfile, parseAlignOverride, alignFor, globMatches, isModelPath, type AlignRule, type AlignRules } from './rules.js';
export { inspectImage, formatInspection, achievedAlignment, type Inspection, type InspectedEntry, type InspectedFile } from './inspect.js';
export { verifyImage, verifyStructure, formatProblem, type VerifyProblem, type VerifyOptions } from './verify.js';
export { parseRomfs, KIND, ROMFS_MAGIC, type RomfsImage, type RomfsEntry, type RomfsFileEntry, type RomfsDirEntry, type ParseOptions } from './parse.js';
export { mpyHeader, mpyLoadProblem, mpyArchName, type MpyHeader } from './mpyHeader.js';
export { fileKind, type FileKind, type FileKindName } from './fileKind.js';
export { readRomfsConfig } from './openmvConfig.js';
export { wasmMpyCross, nativeMpyCross, type MpyCompiler } from './mpyCross.js';
export { defaultCacheDir } from './cacheDir.js';
export { formatUsage } from './usage.js';
export { RomfsFormatError, RomfsBuildError, MpyCompileError } from './errors.js';
export { decodeVaruint, encodeVaruint, encodeVaruintPadded, varuintLength } from './varuint.js';
export { mountVfsRom, romPath, isMicroPythonStr, smallInt32, VfsRomError, type VfsRom, type VfsRomErrno, type VfsRomOptions, type VfsRomEntry, type VfsRomStat, type VfsRomOpened } from './vfsRom.js';
export { firmwareView, firmwareOpen, displayPath, type FirmwareView, type FirmwareEntry, type FirmwareFileData, type DirListing, type FirmwareViewOptions } from './firmwareView.js';
export { isModelFile, isModelName, modelFormatOf, modelFormatProblem, misalignedModelData, MODEL_MAGIC_BYTES, DEFAULT_MODEL_GLOBS, type ModelPlacement, type PlacedFile } from './models.js';
export { scanRomfs, type RomfsScan, type ScannedFile, type ScannedDir } from './scan.js';
