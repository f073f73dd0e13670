/**
 * The image a scenario expects on the board: built from a source tree or a `romfs_config.json`
 * with the board's profile (alignment rules), or taken from an `.img` file as it is. Parsed
 * strictly; every file's sha256 is computed here so the board's listing can be compared.
 */
import { readFile, stat } from 'node:fs/promises';
import type { BoardProfile } from '../profile/profile.js';
import type { RomfsFileEntry } from '../romfs/parse.js';
import { checkImageBytes } from '../flash/prepareImage.js';
import { FlashInputError } from '../flash/errors.js';
import type { ImageSpec } from './definition.js';
import type { ScenarioImage } from './context.js';
import { ScenarioConfigError } from './errors.js';
import { viewOf } from '../romfs/firmwareView.js';
import { sha256Hex } from '../sha256.js';

/** Parse image bytes strictly into what checks compare against. */
export function describeImage(bytes: Uint8Array, source: string, kind: ScenarioImage['kind']): ScenarioImage {
  let prepared;
  try {
    // Strict, then tolerant of what the firmware reads differently (the checks report that).
    prepared = checkImageBytes(bytes, source);
  } catch (e) {
    if (e instanceof FlashInputError) throw new ScenarioConfigError(e.message);
    throw e;
  }
  const img = prepared.bytes;
  const files = prepared.entries
    .filter((e): e is RomfsFileEntry => e.type === 'file')
    .map((f) => ({ path: f.path, offset: f.offset, size: f.size, sha256: sha256Hex(img.subarray(f.offset, f.offset + f.size)) }));
  // The firmware's view is the prepared image's, walked when first asked for (the listing check,
  // a flash's proof): a scenario that needs neither never hashes the files a second time.
  return {
    source, kind, bytes: img, sha256: prepared.sha256, entries: prepared.entries, files, prepared,
    get firmware() {
      return viewOf(prepared);
    },
  };
}

export async function resolveImage(spec: ImageSpec, profile: BoardProfile): Promise<ScenarioImage> {
  let st;
  try {
    st = await stat(spec.path);
  } catch {
    throw new ScenarioConfigError(`image ${spec.path}: no such ${spec.kind === 'source' ? 'source directory' : 'file'}`);
  }
  if (spec.kind === 'img') {
    if (!st.isFile()) throw new ScenarioConfigError(`image ${spec.path}: not a file`);
    return describeImage(new Uint8Array(await readFile(spec.path)), spec.path, 'img');
  }
  if (spec.kind === 'source' && !st.isDirectory()) throw new ScenarioConfigError(`image ${spec.path}: not a directory`);
  // Loaded on demand: only scenarios that build need the image toolchain (the builder alone, not
  // the romfs index with its inspector, verifier and scanner: about a dozen milliseconds of
  // start-up CPU fewer per run).
  const { buildImage } = await import('../romfs/build.js');
  const { rulesFromProfile } = await import('../romfs/rules.js');
  const input = spec.kind === 'source' ? { sourceDir: spec.path } : { configFile: spec.path };
  const built = await buildImage({ ...input, rules: rulesFromProfile(profile), profile });
  return describeImage(built.bytes, `${spec.path} (built for ${profile.name})`, spec.kind);
}
