/**
 * How a glob matches a file in an image, for alignment rules and the model rule alike: on the
 * basename (a glob containing `/` matches the whole path inside the image), the whole name with
 * any number of dots (`*.tflite` matches `person.int8.tflite`, which OpenMV IDE's whole-suffix
 * compare missed), and case-insensitively (`*.tflite` matches `X.TFLITE`).
 */
import { minimatch } from 'minimatch';

/** Does `glob` match the file at `path` (path inside the image, no leading slash)? */
export function globMatches(glob: string, path: string): boolean {
  const target = glob.includes('/') ? path : path.slice(path.lastIndexOf('/') + 1);
  return minimatch(target, glob, { dot: true, nocomment: true, nonegate: true, nocase: true });
}
