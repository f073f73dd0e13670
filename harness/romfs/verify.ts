/**
 * The release gate for images from any builder: strict parse, then per file: model data aligned
 * as the profile requires, `.mpy` files the profile's firmware can load, no uncompiled `.py`
 * (warning), no empty files (warning), and the image fits the partition. Overflow against an
 * explicit partition size is an error; against only the profile's nominal size it is a warning
 * (partition sizes vary by firmware build; `hil flash` checks the size the board reports).
 */
import type { BoardProfile } from '../profile/profile.js';
import { RomfsFormatError } from './errors.js';
import { inspectImage } from './inspect.js';
import { parseRomfs } from './parse.js';
import { isModelPath } from './rules.js';
import { mpyLoadProblem } from './mpyHeader.js';

export interface VerifyProblem {
  severity: 'error' | 'warning';
  /** File inside the image ('' for the image as a whole). */
  path: string;
  message: string;
}

export function verifyImage(bytes: Uint8Array, profile: BoardProfile, opts: { partitionSize?: number } = {}): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  let parsed;
  try {
    parsed = parseRomfs(bytes);
  } catch (e) {
    if (e instanceof RomfsFormatError) return [{ severity: 'error', path: '', message: `not a valid ROMFS image: ${e.message}` }];
    throw e;
  }
  const ins = inspectImage(bytes, parsed);
  for (const f of ins.entries) {
    if (f.type !== 'file') continue;
    const model = isModelPath(profile, f.path) || f.kind === 'tflite' || f.kind === 'nbin';
    if (model && f.offset % profile.align.models !== 0) {
      problems.push({ severity: 'error', path: f.path, message: `model data at offset ${f.offset} is aligned to ${f.alignment} bytes; ${profile.name} requires ${profile.align.models}` });
    }
    if (f.path.endsWith('.mpy')) {
      if (!f.mpy) problems.push({ severity: 'error', path: f.path, message: 'not an .mpy file (no valid header)' });
      else {
        const why = mpyLoadProblem(f.mpy, profile.mpy);
        if (why) problems.push({ severity: 'error', path: f.path, message: `${why} (${profile.name} loads .mpy v${profile.mpy.version}, ${profile.mpy.arch})` });
      }
    }
    if (f.path.endsWith('.py')) problems.push({ severity: 'warning', path: f.path, message: 'uncompiled .py source (build without --keep-py to ship .mpy)' });
    if (f.size === 0) problems.push({ severity: 'warning', path: f.path, message: 'empty file' });
  }
  const explicit = opts.partitionSize !== undefined;
  const size = opts.partitionSize ?? profile.partition.size;
  if (parsed.imageLength > size) {
    problems.push({
      severity: explicit ? 'error' : 'warning',
      path: '',
      message: `image is ${parsed.imageLength} bytes, ${explicit ? 'partition size' : `${profile.name}'s nominal partition`} is ${size}${explicit ? '' : ' (flash checks the size the board reports)'}`,
    });
  }
  return problems;
}

export function formatProblem(p: VerifyProblem, image: string): string {
  return `${p.severity}: ${p.path ? `${image}:/${p.path}` : image}: ${p.message}`;
}
