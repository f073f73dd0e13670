/**
 * `hil image build|inspect|verify`: the ROMFS image toolchain on the command line.
 *   build   <dir> | --config FILE   write an image (aligned per the board profile), print usage
 *   inspect <img> [--json]          tree with size, offset, achieved alignment, kind, sha256, and
 *                                   per model what it declares and (--profile) the model checks
 *   verify  <img> --profile P       release gate: one line per problem; exit 0 only when no errors
 *                                   (the model checks of harness/model included, --firmware picks
 *                                   the op table)
 * Errors are one line naming the file or field (exit 2); nothing is written when a build fails.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ExitCode, UsageError } from '../../errors.js';
import { loadProfile, listProfiles, profileForSegment, type BoardProfile } from '../../profile/profile.js';
import { checkOutputPath } from '../validate.js';

// Each subcommand imports what it runs when it runs (start-up, issue 15): `image build` loads
// neither the inspector, the verifier nor the model checks.

/** The --firmware option (built when inspect or verify is the command: it lists devices/ops). */
async function firmwareOption() {
  const { listOpTables } = await import('../../model/opTable.js');
  return {
    type: 'string' as const,
    describe: `OpenMV firmware version whose op table the model checks use (devices/ops: ${listOpTables().map((t) => t.version).join(', ')}; default the newest)`,
  };
}

function sizeArg(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const m = /^(0x[0-9a-f]+|\d+)\s*([kKmM](?:i?B)?)?$/i.exec(s);
  if (!m) throw new UsageError(`${name} '${s}': expected bytes, hex (0x20000) or a size like 128K / 24M`);
  const n = Number(m[1]) * (m[2] ? (/^[kK]/.test(m[2]) ? 1024 : 1024 * 1024) : 1);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${name} '${s}': must be a positive size`);
  return n;
}

function readImageFile(path: string): Uint8Array {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${path}: not a file`);
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path}: cannot read image (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
}

/** The profile as segment `n` sees it (origin and size of that segment; harness/profile/profile.ts). */
function segmentOf<P extends BoardProfile | undefined>(p: P, n: number | undefined): P {
  return p && n !== undefined ? (profileForSegment(p, n) as P) : p;
}

function profileArg(name: string | undefined): BoardProfile | undefined {
  return name === undefined ? undefined : loadProfile(name);
}

interface BuildArgs {
  dir?: string;
  output?: string;
  profile?: string;
  align: string[];
  keepPy: boolean;
  mpyCross?: string;
  config?: string;
  partition?: string;
  var: string[];
  layout: 'aligned' | 'mpremote';
  partitionSize?: string;
  segment?: number;
  cache: boolean;
  cacheDir?: string;
}

const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build [dir]',
  describe: 'Build a ROMFS image from a folder (or an OpenMV romfs_config.json)',
  builder: (y: Argv) =>
    y
      .positional('dir', { type: 'string', describe: 'source folder: its contents become /rom (directories kept)' })
      .option('output', { alias: 'o', type: 'string', describe: 'image file to write (default: <dir>.img, or build/romfs<N>.img next to --config)' })
      .option('profile', { alias: 'p', type: 'string', describe: `board profile: alignment rules and partition size (${listProfiles().join(', ')}, or a YAML path)` })
      .option('align', { type: 'string', array: true, default: [], describe: "alignment override GLOB=N, repeatable, later wins (e.g. --align '*.tflite=32'); globs match the basename, '*.tflite' matches 'a.int8.tflite'" })
      .option('keep-py', { type: 'boolean', default: false, describe: 'ship .py sources instead of compiling them to .mpy (boot.py and main.py always ship as source: the firmware runs them by name)' })
      .option('mpy-cross', { type: 'string', describe: 'native mpy-cross binary (default: the WebAssembly mpy-cross from npm)' })
      .option('config', { type: 'string', describe: "OpenMV romfs_config.json to build instead of a folder (flat image; {TOP} defaults to the config's folder)" })
      .option('partition', { type: 'string', describe: 'partition of --config to build (default: its first)' })
      .option('var', { type: 'string', array: true, default: [], describe: 'config variable NAME=VALUE, repeatable (e.g. --var TOP=~/openmv)' })
      .option('layout', { choices: ['aligned', 'mpremote'] as const, default: 'aligned' as const, describe: "record layout: 'aligned' (OpenMV mkromfs compatible) or 'mpremote' (no alignment, for comparison)" })
      .option('partition-size', { type: 'string', describe: 'bytes available (e.g. 131072, 0x20000, 128K); default: the config size, else the profile size; larger is an error' })
      .option('segment', { type: 'number', describe: "ROMFS segment of the profile the image is for (default 0; the AE3's 1 is MRAM at 0x8047E000, 1 MiB): its origin and size" })
      .option('cache', { type: 'boolean', default: true, describe: 'reuse compiled .mpy and the last image of unchanged inputs (--no-cache to rebuild everything)' })
      .option('cache-dir', { type: 'string', describe: 'cache folder (default: $XDG_CACHE_HOME/hil, else node_modules/.cache/hil-mpy)' })
      .example('$0 image build images/demo --profile openmv-h7', 'writes images/demo.img, models 16-byte aligned')
      .example('$0 image build --config boards/OPENMV4/romfs.json --var TOP=~/openmv -o romfs0.img', 'OpenMV config, byte-identical to mkromfs')
      .example('$0 image build images/demo --layout mpremote --keep-py -o demo.mpremote.img', "mpremote's layout, for comparison") as unknown as Argv<BuildArgs>,
  handler: async (args: ArgumentsCamelCase<BuildArgs>) => {
    // One import after the other: jest's ESM loader fails parallel imports sharing a module.
    const { buildImage } = await import('../../romfs/build.js');
    const { rulesFromProfile, parseAlignOverride } = await import('../../romfs/rules.js');
    const { formatUsage } = await import('../../romfs/usage.js');
    if (!args.dir === !args.config) throw new UsageError('give a source folder or --config FILE (one of them)');
    if (args.partition !== undefined && !args.config) throw new UsageError('--partition applies to --config only');
    if (args.segment !== undefined && !args.profile) throw new UsageError('--segment needs --profile (the segment is one of the profile\'s)');
    const profile = segmentOf(profileArg(args.profile), args.segment);
    const rules = rulesFromProfile(profile, args.align.map(parseAlignOverride));
    const vars: Record<string, string> = {};
    for (const v of args.var) {
      const eq = v.indexOf('=');
      if (eq <= 0) throw new UsageError(`--var '${v}': expected NAME=VALUE`);
      vars[v.slice(0, eq)] = v.slice(eq + 1);
    }
    const partitionSize = sizeArg(args.partitionSize, '--partition-size');
    const out = args.output ?? (args.config ? resolve(dirname(args.config), 'build', `romfs${args.partition ?? '0'}.img`) : `${resolve(args.dir!).replace(/\/+$/, '')}.img`);
    checkOutputPath('--output', out);
    const result = await buildImage({
      sourceDir: args.dir,
      configFile: args.config,
      partition: args.partition,
      vars,
      rules,
      profile,
      keepPy: args.keepPy,
      mpyCross: args.mpyCross,
      layout: args.layout,
      partitionSize,
      cacheDir: args.cache ? args.cacheDir : false,
      outFile: out,
    });
    const files = result.entries.filter((e) => e.type === 'file').length;
    // The claim is judged on the models' addresses (origin + offset), as verify and flash judge them.
    const bad = result.misaligned;
    const rule = args.layout === 'mpremote' ? 'mpremote layout, unaligned' : profile ? (bad.length === 0 ? `aligned for ${profile.name}` : `NOT aligned for ${profile.name} (${bad.length} model${bad.length > 1 ? 's' : ''} off alignment)`) : 'aligned (models 16, other files 4)';
    for (const m of bad) process.stderr.write(`warning: ${out}:/${m.path}: model data at offset ${m.offset} (address 0x${m.address.toString(16)}) is not ${m.align}-byte aligned as profile ${profile!.name} requires\n`);
    process.stdout.write(`${result.written === false ? 'up to date' : 'wrote'} ${out}: ${result.usage.used} bytes, ${files} files (${result.compiled} compiled to .mpy), ${rule}${result.written === false ? ' (inputs and image unchanged, not rewritten)' : ''}\n`);
    process.stdout.write(`${formatUsage(result.usage)}\n`);
    // The firmware runs boot.py and main.py by name, as source (romfs/entryScripts.ts): say they stayed so.
    if (result.keptAsSource.length) process.stdout.write(`kept as source (the firmware runs boot.py and main.py by name, never a .mpy): ${result.keptAsSource.join(', ')}\n`);
  },
};

interface InspectArgs {
  image: string;
  json: boolean;
  profile?: string;
  firmware?: string;
}

const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <image>',
  describe: 'Show the files in an image: size, data offset, achieved alignment, kind, sha256',
  builder: async (y: Argv) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'ROMFS image file' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a tree (each model entry carries `model`: what it declares and the checks per profile: the given one, else every built-in profile)' })
      .option('profile', { alias: 'p', type: 'string', describe: 'board profile to check the models against (text output shows its findings)' })
      .option('firmware', await firmwareOption()) as unknown as Argv<InspectArgs>,
  handler: async (args: ArgumentsCamelCase<InspectArgs>) => {
    const { loadOpTable } = await import('../../model/opTable.js');
    const { inspectImage, formatInspection } = await import('../../romfs/inspect.js');
    const { RomfsFormatError } = await import('../../romfs/errors.js');
    const { inspectModels, formatModels } = await import('../imageModels.js');
    const table = loadOpTable(args.firmware);
    const given = profileArg(args.profile);
    const bytes = readImageFile(args.image);
    let ins;
    try {
      ins = inspectImage(bytes);
    } catch (e) {
      if (e instanceof RomfsFormatError) throw new UsageError(`${args.image}: not a valid ROMFS image: ${e.message}`);
      throw e;
    }
    if (args.json) {
      const profiles = given ? [given] : listProfiles().map((n) => loadProfile(n));
      const models = new Map(inspectModels(bytes, ins, profiles, table).map((m) => [m.path, m]));
      const entries = ins.entries.map((e) => {
        const m = models.get(e.path);
        return m ? { ...e, model: { ...m.facts, firmware: `${table.firmware} ${table.version}`, checks: m.checks } } : e;
      });
      process.stdout.write(`${JSON.stringify({ image: args.image, ...ins, entries }, null, 2)}\n`);
      return;
    }
    const lines = formatModels(inspectModels(bytes, ins, given ? [given] : [], table), table);
    process.stdout.write(`${formatInspection(ins, basename(args.image))}\n${lines.length ? `models${given ? ` (checked for ${given.name}, ${table.firmware} ${table.version})` : ''}:\n${lines.join('\n')}\n` : ''}`);
  },
};

interface VerifyArgs {
  image: string;
  profile: string;
  partitionSize?: string;
  segment?: number;
  json: boolean;
  firmware?: string;
}

const verifyCommand: CommandModule<object, VerifyArgs> = {
  command: 'verify <image>',
  describe: 'Release gate: check an image from any builder against a board profile',
  builder: async (y: Argv) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'ROMFS image file' })
      .option('profile', { alias: 'p', type: 'string', demandOption: true, describe: 'board profile name or YAML path' })
      .option('partition-size', { type: 'string', describe: 'partition size to enforce (error when exceeded); without it the profile size gives a warning' })
      .option('segment', { type: 'number', describe: "ROMFS segment of the profile the image is for (default 0; the AE3's 1 is MRAM at 0x8047E000, 1 MiB): its origin and size" })
      .option('json', { type: 'boolean', default: false, describe: 'print the problems as JSON' })
      .option('firmware', await firmwareOption())
      .epilog('Checks: strict parse compared with the firmware\'s own reading (files it cannot open or list, or reads differently), model alignment at origin + offset and model format, .mpy loadable by the firmware, every .py compiled, uncompiled .py (warning), empty files and empty images (warning), non-erased bytes after the image (warning; error when the image is empty), partition overflow.\nModel checks (op table of --firmware): a model that does not parse, a schema version other than 3, operators the firmware does not register, input/output dtypes ml does not accept, an NBIN header the N6 runtime refuses (errors); a tensor arena estimate over the profile\'s mlRam, a model without the ethos-u op on an Ethos-U board (warnings).\nExit 0 when there are no errors, 1 when there are, 2 when the image, profile or op table cannot be read.') as unknown as Argv<VerifyArgs>,
  handler: async (args: ArgumentsCamelCase<VerifyArgs>) => {
    const { loadOpTable } = await import('../../model/opTable.js');
    const { verifyImage, formatProblem } = await import('../../romfs/verify.js');
    const { modelProblems } = await import('../imageModels.js');
    const profile = segmentOf(loadProfile(args.profile), args.segment);
    const table = loadOpTable(args.firmware);
    const partitionSize = sizeArg(args.partitionSize, '--partition-size');
    const bytes = readImageFile(args.image);
    const problems = await verifyImage(bytes, profile, { partitionSize });
    const models = modelProblems(bytes, profile, table, partitionSize);
    problems.push(...models.problems);
    const errors = problems.filter((p) => p.severity === 'error').length;
    if (args.json) process.stdout.write(`${JSON.stringify({ image: args.image, profile: profile.name, firmware: `${table.firmware} ${table.version}`, ok: errors === 0, problems, models: models.checks }, null, 2)}\n`);
    else {
      for (const p of problems) process.stdout.write(`${formatProblem(p, args.image)}\n`);
      const warnings = problems.length - errors;
      process.stdout.write(errors === 0 ? `ok: ${args.image} passes for ${profile.name}${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}\n` : `failed: ${errors} error${errors > 1 ? 's' : ''}, ${warnings} warning${warnings === 1 ? '' : 's'} for ${profile.name}\n`);
    }
    if (errors > 0) process.exitCode = ExitCode.CHECK_FAILED;
  },
};

export const imageCommand: CommandModule<object, object> = {
  command: 'image <command>',
  describe: 'Build, inspect and verify ROMFS images',
  builder: (y: Argv) => y.command(buildCommand).command(inspectCommand).command(verifyCommand).demandCommand(1, 'Name an image command: build, inspect or verify.'),
  handler: () => undefined,
};
